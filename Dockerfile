# The operator image: the compiled binary on a small glibc base, run as non-root.
# Build the binary first (`npm ci && npm run build`), then `docker build .`.
# For an arm64 image, build with `npm run build -- --all` and set BINARY.
FROM gcr.io/distroless/cc-debian12:nonroot
ARG BINARY=dist/tusk
COPY --chmod=0755 ${BINARY} /usr/local/bin/tusk
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/tusk"]
