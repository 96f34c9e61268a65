# syntax=docker/dockerfile:1
#
# stateless-kafka-broker as a small image: the `deno compile`d executable on a
# distroless base (glibc, no shell), running as a non-root user. The broker
# keeps no state of its own: point SKB_META and SKB_LOG at external stores.
#
#   docker build --build-arg REVISION="$(git rev-parse HEAD)" -t skb .
#   docker run --rm -p 9092:9092 -p 9644:9644 \
#     -e SKB_META=redis://redis:6379/0 -e SKB_LOG='s3://bucket/skb?endpoint=...' skb
#
# Without SKB_META/SKB_LOG it runs on SQLite and files under /home/nonroot/data,
# which vanish with the container: fine for a try, not for keeping data.

# Keep equal to the version pinned in tools/deno/package.json.
ARG DENO_VERSION=2.9.6

FROM denoland/deno:${DENO_VERSION} AS build
USER root
WORKDIR /src
COPY . .
ARG REVISION=unknown
# The bundle inlines every npm package; the executable embeds the bundle and the
# runtime for this platform (amd64 or arm64, whichever is being built).
RUN deno task compile --target host --revision "${REVISION}" --out /out \
  && mv /out/skb-*-linux-gnu /out/skb \
  && /out/skb --version

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/skb /usr/local/bin/skb
WORKDIR /home/nonroot
USER nonroot:nonroot
ENV SKB_HOST=0.0.0.0 \
    SKB_PORT=9092 \
    SKB_HTTP_PORT=9644 \
    SKB_LOG_FORMAT=json \
    SKB_DATA_DIR=/home/nonroot/data
# 9092: Kafka protocol. 9644: /metrics, /healthz, /readyz.
EXPOSE 9092 9644
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/skb"]
