# hardport in a container, for machines without a Rust toolchain:
#   docker build -t hardport .
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD:/src" hardport migrate .
# The build stage compiles the locked dependency versions with the current stable Rust; the
# runtime stage is distroless (glibc and libgcc, no shell), running as its nonroot user unless
# --user says otherwise.
FROM rust:1-slim-bookworm AS build
WORKDIR /build
COPY . .
RUN cargo build --release --locked --bin hardport

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /build/target/release/hardport /usr/local/bin/hardport
WORKDIR /src
ENTRYPOINT ["/usr/local/bin/hardport"]
CMD ["migrate", "."]
