# syntax=docker/dockerfile:1
# Ternstream service image. One image, two roles: TERNSTREAM_ROLE=engine | gateway | all.
#   docker build -t ternstream:0.1.0 .
# The bundled model is inside (/opt/ternstream/models/ternstream-tiny, found through TERNSTREAM_HOME);
# mount other models under /models and point TERNSTREAM_MODEL_DIR at one of them. The engine keeps its
# session stores in TERNSTREAM_KAFKA_STATE_DIR: mount a volume at /var/lib/ternstream/state and point
# it there (unset, the stores go to a new folder under /tmp on every start).

ARG JDK_MAJOR=25

# ---- build: the Quarkus fast-jar of module service (and the engine and schemas it depends on) ----
FROM eclipse-temurin:${JDK_MAJOR}-jdk AS build
WORKDIR /src
COPY . .
# The cache mount keeps ~/.m2 between builds; nothing is installed into it (reactor build, no `install`).
RUN --mount=type=cache,target=/root/.m2 \
    ./mvnw -B -q -DskipTests -pl service -am package \
 && test -f service/target/quarkus-app/quarkus-run.jar

# ---- runtime: JRE only; Temurin's JRE keeps the jdk.incubator.vector module the kernels need ----
FROM eclipse-temurin:${JDK_MAJOR}-jre
# A fixed numeric uid/gid: Kubernetes' runAsUser/fsGroup (k8s/base) name the same ids.
# The state folder exists and is ours so that a Docker volume mounted there starts out with its owner.
RUN groupadd --system --gid 10001 ternstream \
 && useradd --system --uid 10001 --gid 10001 --home-dir /opt/ternstream --no-create-home \
            --shell /usr/sbin/nologin ternstream \
 && mkdir -p /models /var/lib/ternstream/state \
 && chown 10001:10001 /models /var/lib/ternstream /var/lib/ternstream/state
WORKDIR /opt/ternstream
# Quarkus fast-jar layout: dependencies first (they change least), then the application.
COPY --from=build --chown=10001:10001 /src/service/target/quarkus-app/lib/ app/lib/
COPY --from=build --chown=10001:10001 /src/service/target/quarkus-app/quarkus-run.jar app/
COPY --from=build --chown=10001:10001 /src/service/target/quarkus-app/app/ app/app/
COPY --from=build --chown=10001:10001 /src/service/target/quarkus-app/quarkus/ app/quarkus/
COPY --chown=10001:10001 models/ternstream-tiny/ models/ternstream-tiny/

# DJL extracts the tokenizer's native library into DJL_CACHE_DIR, and RocksDB its own into java.io.tmpdir:
# /tmp is writable even when the root filesystem is read-only (Kubernetes mounts an emptyDir there).
ENV TERNSTREAM_HOME=/opt/ternstream \
    DJL_CACHE_DIR=/tmp/djl \
    OPT_OUT_TRACKING=true \
    LANG=C.UTF-8
EXPOSE 8080
USER 10001:10001
# Vector API module and native access (tokenizer library) as in ./ternstream; the heap is a share of the
# container's memory limit because the weights are memory-mapped outside the heap. No huge pages (unlike the
# engine commands): with them the first-token overhead exceeded 10 ms in 2 of 4 benchmark runs, 3.3-8.1 ms
# in the ten without (docs/PERFORMANCE.md); likely a fault on a fresh madvised heap page stalling for compaction.
# Extra JVM flags: JDK_JAVA_OPTIONS (read by the java launcher).
ENTRYPOINT ["java", \
  "--add-modules=jdk.incubator.vector", \
  "--enable-native-access=ALL-UNNAMED", \
  "-Dai.djl.offline=true", \
  "-DOPT_OUT_TRACKING=true", \
  "-Djava.io.tmpdir=/tmp", \
  "-XX:+UseParallelGC", \
  "-XX:MaxRAMPercentage=60", \
  "-XX:+ExitOnOutOfMemoryError", \
  "-jar", "/opt/ternstream/app/quarkus-run.jar"]
CMD ["serve"]
