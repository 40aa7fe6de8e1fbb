// filled in by the rule-file work
