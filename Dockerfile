# syntax=docker/dockerfile:1
#
# The teamslink container image: one static binary on distroless static,
# run as the numeric non-root user 65532, with CA certificates and no shell.
# It writes nothing outside the volumes deploy/ mounts (/etc/teamslink read
# only, /var/lib/teamslink or /reports, /tmp), so it runs with a read-only
# root filesystem. See docs/release.md.
#
#   docker build \
#     --build-arg RUNTIME_DIGEST=$(crane digest gcr.io/distroless/static-debian12:nonroot) \
#     --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg COMMIT=$(git rev-parse HEAD) \
#     --build-arg DATE=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ) \
#     -t registry.example.com/teamslink:$(git describe --tags --always) .
#
# Both base images are pinned by tag and digest, so a rebuild uses the same
# bytes (docs/release.md says how to refresh them). The builder's digest is
# the one the Docker Official Images record for golang:1.26.8 (the
# docker-library/repo-info repository). The final image's digest has no
# default: no record of it was at hand when this file was written, and a
# digest is never guessed, so the build fails ("invalid reference format")
# until --build-arg RUNTIME_DIGEST=sha256:… names it.
ARG GO_IMAGE=golang:1.26.8@sha256:9d2f36f06329b2a141b9db99ffa32765cf695ee57b813ca29e245e8670bcbfff
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot
ARG RUNTIME_DIGEST

# The builder runs on the machine's own platform and cross-compiles for the
# target one, so a multi-platform build (docker buildx --platform
# linux/amd64,linux/arm64) needs no emulation.
FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
WORKDIR /src
# Modules first, so that a change to the source reuses the downloaded ones.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG VERSION=dev
ARG COMMIT=
ARG DATE=
# The flags of make release: static (CGO off), no machine paths, no build id,
# the three stamps `teamslink version --json` prints.
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false \
      -ldflags "-s -w -buildid= -X main.version=$VERSION -X main.commit=$COMMIT -X main.date=$DATE" \
      -o /out/teamslink ./cmd/teamslink

# distroless static: CA certificates, tzdata, an /etc/passwd with nonroot
# (65532), and nothing else — no shell, no package manager.
FROM ${RUNTIME_IMAGE}@${RUNTIME_DIGEST}
ARG VERSION=dev
ARG COMMIT=
ARG DATE=
LABEL org.opencontainers.image.title="teamslink" \
      org.opencontainers.image.description="Policy-as-code compliance scanner for Dynamics 365 and Microsoft Teams record linking" \
      org.opencontainers.image.source="https://github.com/teamslink/teamslink" \
      org.opencontainers.image.documentation="https://github.com/teamslink/teamslink/tree/main/docs" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.revision="$COMMIT" \
      org.opencontainers.image.created="$DATE"
COPY --from=build /out/teamslink /teamslink
USER 65532:65532
ENTRYPOINT ["/teamslink"]
CMD ["--help"]
