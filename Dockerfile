# vigil's container image, on Debian 12 in two stages: the first builds the
# Debian package (scripts/setup.sh's packages, CPack, as scripts/package.sh), the second installs it
# with apt, so the image holds exactly what the .deb holds and depends on.
#
#   docker build -t vigil .            (or: podman build -t vigil .)
#   docker run -p 9093:9093 vigil      (the quickstart's configuration)
#   docker run -p 9093:9093 -v $PWD/conf:/etc/vigil:ro -v vigil-data:/var/lib/vigil vigil
#
# scripts/image.sh builds it, runs it and checks /-/ready (see the README).
ARG DEBIAN=debian:12-slim

FROM ${DEBIAN} AS build
COPY scripts/setup.sh /src/scripts/setup.sh
RUN /src/scripts/setup.sh
COPY . /src
# The commit the image is built from (the sources are copied without .git).
ARG VIGIL_COMMIT=""
# ccache's folder is kept between builds where the builder can (BuildKit, buildah).
RUN --mount=type=cache,target=/root/.cache/ccache \
    export VIGIL_COMMIT="${VIGIL_COMMIT}" \
 && cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build --target vigil \
 && cd /build && cpack -G DEB -B /out >/dev/null

FROM ${DEBIAN}
COPY --from=build /out/vigil_*_amd64.deb /tmp/
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/vigil_*_amd64.deb \
 && rm -rf /var/lib/apt/lists/* /tmp/vigil_*_amd64.deb
USER vigil
WORKDIR /var/lib/vigil
VOLUME /var/lib/vigil
EXPOSE 9093
ENTRYPOINT ["/usr/bin/vigil"]
CMD ["run", "--config.file=/etc/vigil/prometheus.yml", "--alertmanager.config=/etc/vigil/alertmanager.yml", \
     "--storage.path=/var/lib/vigil", "--web.listen-address=0.0.0.0:9093"]
