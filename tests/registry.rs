//! The registry client against a real registry: Debian's `docker-registry` (the distribution
//! registry 2.8) on a free 127.0.0.1 port, once over plain HTTP and once with TLS (a CA and a
//! server certificate made by `openssl`) and htpasswd auth (bcrypt, made by `htpasswd -B`).
//! Test images are OCI layouts built with `umoci` and pushed with `skopeo`; a multi-platform
//! index is written into the layout and pushed with `skopeo copy --all`. Digests are checked
//! against what `skopeo inspect --raw` reads back.
//!
//! The tools are required, not optional: `.ci/run` installs them, and a test that cannot find
//! one fails saying which and how to install it.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hardport::catalog::Id;
use hardport::image_ref::ImageRef;
use hardport::registry::{
    Limits, Platform, Registry, RegistryError, RegistryOptions, ResolvedImage, nearest_tag,
};
use sha2::{Digest as _, Sha256};

const INSTALL: &str = "apt-get install -y docker-registry umoci skopeo apache2-utils openssl";

/// Runs a tool, failing the test with its output when it fails.
fn run(program: &str, args: &[&str]) -> Vec<u8> {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| {
            panic!("cannot run `{program}` ({error}); tests/registry.rs needs it: {INSTALL}")
        });
    assert!(
        output.status.success(),
        "`{program} {}` failed: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// A running `docker-registry serve`, stopped (its own process, by handle) when dropped.
struct Server {
    child: Child,
    host: String,
    _dir: tempfile::TempDir,
}

/// How to start a registry: plain, or with TLS and htpasswd auth.
struct Secure {
    cert: PathBuf,
    key: PathBuf,
    htpasswd: PathBuf,
}

impl Server {
    fn start(secure: Option<&Secure>) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {host}\n",
            dir.path().join("data").display()
        );
        if let Some(secure) = secure {
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\nauth:\n  htpasswd:\n    realm: hardport-test\n    path: {}\n",
                secure.cert.display(),
                secure.key.display(),
                secure.htpasswd.display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot start `docker-registry` ({error}); tests/registry.rs needs it: {INSTALL}")
            });
        let server = Server {
            child,
            host,
            _dir: dir,
        };
        let started = Instant::now();
        while TcpStream::connect(&server.host).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "docker-registry did not listen on {}",
                server.host
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An OCI layout under construction with umoci.
struct Layout {
    dir: tempfile::TempDir,
}

/// A file to put into (or, with `None`, delete from) an image's root file system.
enum Put<'a> {
    File(&'a str, &'a [u8]),
    Link(&'a str, &'a str),
    Delete(&'a str),
}

impl Layout {
    fn new() -> Layout {
        let dir = tempfile::tempdir().unwrap();
        run(
            "umoci",
            &[
                "init",
                "--layout",
                &dir.path().join("oci").to_string_lossy(),
            ],
        );
        Layout { dir }
    }

    fn image(&self, tag: &str) -> String {
        format!("{}:{tag}", self.dir.path().join("oci").display())
    }

    /// A new image `tag` with one layer per item of `layers`.
    fn build(&self, tag: &str, layers: &[&[Put<'_>]]) {
        let image = self.image(tag);
        run("umoci", &["new", "--image", &image]);
        for (index, layer) in layers.iter().enumerate() {
            let bundle = self.dir.path().join(format!("bundle-{tag}-{index}"));
            let bundle = bundle.to_string_lossy();
            run(
                "umoci",
                &["unpack", "--rootless", "--image", &image, &bundle],
            );
            let root = Path::new(&*bundle).join("rootfs");
            for put in *layer {
                match put {
                    Put::File(path, bytes) => {
                        let path = root.join(path);
                        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                        std::fs::write(path, bytes).unwrap();
                    }
                    Put::Link(path, target) => {
                        let path = root.join(path);
                        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                        std::os::unix::fs::symlink(target, path).unwrap();
                    }
                    Put::Delete(path) => std::fs::remove_file(root.join(path)).unwrap(),
                }
            }
            run("umoci", &["repack", "--image", &image, &bundle]);
        }
    }

    fn config(&self, tag: &str, args: &[&str]) {
        let image = self.image(tag);
        let mut all = vec!["config", "--image", image.as_str()];
        all.extend_from_slice(args);
        run("umoci", &all);
    }

    /// Pushes `tag` (an image or an index) to `destination` (`host/repo:tag`).
    fn push(&self, tag: &str, destination: &str, creds: Option<&str>) {
        let source = format!("oci:{}", self.image(tag));
        let destination = format!("docker://{destination}");
        let mut args = vec!["copy", "--quiet", "--all", "--dest-tls-verify=false"];
        if let Some(creds) = creds {
            args.extend(["--dest-creds", creds]);
        }
        args.extend([source.as_str(), destination.as_str()]);
        run("skopeo", &args);
    }

    /// Writes an image index of the images `tags` (with their platforms) into the layout as
    /// `index_tag`.
    fn index(&self, index_tag: &str, tags: &[(&str, &str, &str)]) {
        let root = self.dir.path().join("oci");
        let index_path = root.join("index.json");
        let mut layout: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
        let manifests = layout["manifests"].as_array().unwrap().clone();
        let entries: Vec<serde_json::Value> = tags
            .iter()
            .map(|(tag, os, architecture)| {
                let mut entry = manifests
                    .iter()
                    .find(|entry| entry["annotations"]["org.opencontainers.image.ref.name"] == *tag)
                    .unwrap_or_else(|| panic!("no image {tag} in the layout"))
                    .clone();
                entry.as_object_mut().unwrap().remove("annotations");
                entry["platform"] = serde_json::json!({"os": os, "architecture": architecture});
                entry
            })
            .collect();
        let index = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": entries,
        }))
        .unwrap();
        let digest = sha256_hex(&index);
        std::fs::write(root.join("blobs/sha256").join(&digest), &index).unwrap();
        layout["manifests"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "digest": format!("sha256:{digest}"),
                "size": index.len(),
                "annotations": {"org.opencontainers.image.ref.name": index_tag},
            }));
        std::fs::write(index_path, serde_json::to_vec(&layout).unwrap()).unwrap();
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// `skopeo inspect --raw`: the manifest bytes as the registry serves them.
fn raw_manifest(reference: &str) -> Vec<u8> {
    run(
        "skopeo",
        &[
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{reference}"),
        ],
    )
}

/// `skopeo inspect --config`: the image config as the registry serves it, as text.
fn run_inspect(reference: &str) -> String {
    let config = run(
        "skopeo",
        &[
            "inspect",
            "--config",
            "--tls-verify=false",
            &format!("docker://{reference}"),
        ],
    );
    String::from_utf8(config).expect("a config is JSON")
}

fn options() -> RegistryOptions {
    RegistryOptions {
        timeout: Duration::from_secs(10),
        retry_base: Duration::from_millis(10),
        // No credentials from the machine's own Docker config: this directory has none.
        docker_config: Some(PathBuf::from("/nonexistent/hardport-test-docker-config")),
        ..RegistryOptions::default()
    }
}

fn image(text: &str) -> ImageRef {
    ImageRef::parse(text).unwrap()
}

fn ids(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, Id>> {
    Some(
        pairs
            .iter()
            .map(|(name, id)| ((*name).to_owned(), Id((*id).to_owned())))
            .collect(),
    )
}

const PASSWD: &[u8] = b"root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1001::/home/node:/bin/sh\n";
const GROUP: &[u8] = b"root:x:0:\nnode:x:1001:\n";

/// A busybox-like base: passwd, group, /bin/sh -> /bin/busybox, /sbin/apk.
fn base() -> Vec<Put<'static>> {
    vec![
        Put::File("etc/passwd", PASSWD),
        Put::File("etc/group", GROUP),
        Put::File("bin/busybox", b"\x7fELF"),
        Put::Link("bin/sh", "/bin/busybox"),
        Put::File("sbin/apk", b"\x7fELF"),
    ]
}

#[test]
fn an_index_resolves_to_the_platform_image_with_its_facts() {
    let server = Server::start(None);
    let layout = Layout::new();
    layout.build("amd", &[&base()]);
    layout.config(
        "amd",
        &[
            "--config.user",
            "node",
            "--config.workingdir",
            "/home/node",
            "--clear=config.entrypoint",
            "--config.entrypoint",
            "/usr/bin/node",
        ],
    );
    layout.build(
        "arm",
        &[&[Put::File(
            "etc/passwd",
            b"app:x:2000:2000::/:/sbin/nologin\n",
        )]],
    );
    layout.config("arm", &["--architecture", "arm64", "--config.user", "app"]);
    layout.index(
        "multi",
        &[("amd", "linux", "amd64"), ("arm", "linux", "arm64")],
    );
    let reference = format!("{}/hardened/node:20", server.host);
    layout.push("multi", &reference, None);

    let index_bytes = raw_manifest(&reference);
    let index: serde_json::Value = serde_json::from_slice(&index_bytes).unwrap();
    let digest_of = |architecture: &str| {
        index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|entry| entry["platform"]["architecture"] == architecture)
            .unwrap()["digest"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    let registry = Registry::new(options()).unwrap();
    let amd: ResolvedImage = registry.resolve(&image(&reference)).unwrap();
    assert_eq!(amd.reference, reference);
    assert_eq!(amd.digest, digest_of("amd64"));
    assert_eq!(
        amd.index_digest,
        Some(format!("sha256:{}", sha256_hex(&index_bytes)))
    );
    assert_eq!(amd.platform.to_string(), "linux/amd64");
    assert_eq!(amd.spec.user, Some(Id("node".into())));
    assert_eq!(
        amd.spec.group,
        Some(Id("1001".into())),
        "node's primary group"
    );
    assert_eq!(amd.spec.uid(), Some(1000));
    assert_eq!(amd.spec.workdir.as_deref(), Some("/home/node"));
    assert_eq!(amd.spec.entrypoint, Some(vec!["/usr/bin/node".to_owned()]));
    assert_eq!(amd.spec.users, ids(&[("node", "1000"), ("root", "0")]));
    assert_eq!(amd.spec.groups, ids(&[("node", "1001"), ("root", "0")]));
    assert_eq!(amd.spec.shell, Some(true), "/bin/sh -> /bin/busybox");
    assert_eq!(amd.spec.package_manager.as_deref(), Some("apk"));
    assert!(amd.unknown.is_empty(), "{:?}", amd.unknown);

    let arm_options = RegistryOptions {
        platform: "linux/arm64".parse::<Platform>().unwrap(),
        ..options()
    };
    let arm = Registry::new(arm_options)
        .unwrap()
        .resolve(&image(&reference))
        .unwrap();
    assert_eq!(arm.digest, digest_of("arm64"));
    assert_eq!(arm.platform.to_string(), "linux/arm64");
    assert_eq!(arm.spec.user, Some(Id("app".into())));
    assert_eq!(arm.spec.users, ids(&[("app", "2000")]));
    assert_eq!(arm.spec.groups, Some(BTreeMap::new()), "no /etc/group");
    assert_eq!(arm.spec.shell, Some(false));
    assert_eq!(arm.spec.package_manager, None);
    assert_eq!(arm.layers.package_manager, Some(None), "none, not unknown");

    // Pinned by the platform digest, the same image resolves without the index.
    let pinned = registry
        .resolve(&image(&format!("{reference}@{}", amd.digest)))
        .unwrap();
    assert_eq!(
        (pinned.digest, pinned.index_digest),
        (amd.digest.clone(), None)
    );

    let s390x = RegistryOptions {
        platform: "linux/s390x".parse().unwrap(),
        ..options()
    };
    let error = Registry::new(s390x)
        .unwrap()
        .resolve(&image(&reference))
        .unwrap_err();
    assert!(matches!(error, RegistryError::NoPlatform { .. }), "{error}");
    let message = error.to_string();
    assert!(
        message.contains(&reference) && message.contains("linux/amd64, linux/arm64"),
        "{message}"
    );
}

#[test]
fn a_whiteout_in_an_upper_layer_deletes_what_the_base_had() {
    let server = Server::start(None);
    let layout = Layout::new();
    // umoci writes the deletions of the second layer as `.wh.` whiteouts.
    layout.build(
        "app",
        &[
            &base(),
            &[
                Put::Delete("etc/group"),
                Put::Delete("sbin/apk"),
                Put::File("usr/bin/apt-get", b"\x7fELF"),
            ],
        ],
    );
    layout.config("app", &["--config.user", "1000"]);
    let reference = format!("{}/team/app:1.0", server.host);
    layout.push("app", &reference, None);
    let resolved = Registry::new(options())
        .unwrap()
        .resolve(&image(&reference))
        .unwrap();
    assert_eq!(resolved.spec.users, ids(&[("node", "1000"), ("root", "0")]));
    assert_eq!(resolved.spec.groups, Some(BTreeMap::new()), "deleted above");
    assert_eq!(
        resolved.spec.package_manager.as_deref(),
        Some("apt"),
        "apk deleted above"
    );
    assert_eq!(
        resolved.spec.group,
        Some(Id("1001".into())),
        "uid 1000's primary group"
    );
    assert_eq!(resolved.spec.shell, Some(true));
    assert_eq!(resolved.layers.layers_read, 2);
    // The digest is the one the registry serves.
    let raw = raw_manifest(&reference);
    assert_eq!(resolved.digest, format!("sha256:{}", sha256_hex(&raw)));
}

#[test]
fn a_missing_tag_does_not_exist_and_tags_are_listed() {
    let server = Server::start(None);
    let layout = Layout::new();
    layout.build("x", &[&base()]);
    for tag in ["1", "1.2", "1.2.3", "2-dev"] {
        layout.push("x", &format!("{}/hardened/tool:{tag}", server.host), None);
    }
    let registry = Registry::new(options()).unwrap();
    let present = image(&format!("{}/hardened/tool:1.2", server.host));
    let missing = image(&format!("{}/hardened/tool:1.3", server.host));
    assert!(registry.manifest_exists(&present).unwrap());
    assert!(!registry.manifest_exists(&missing).unwrap());
    let nowhere = image(&format!("{}/hardened/none:1", server.host));
    assert!(
        !registry.manifest_exists(&nowhere).unwrap(),
        "a missing repository"
    );

    let error = registry.resolve(&missing).unwrap_err();
    assert!(matches!(error, RegistryError::NotFound { .. }), "{error}");
    let message = error.to_string();
    assert!(
        message.contains(&format!("{}/hardened/tool:1.3", server.host))
            && message.contains("does not exist"),
        "{message}"
    );

    let mut tags = registry.tags(&present).unwrap();
    tags.sort();
    assert_eq!(tags, ["1", "1.2", "1.2.3", "2-dev"]);
    assert_eq!(nearest_tag("1.2.9", &tags).as_deref(), Some("1.2"));
    assert_eq!(nearest_tag("2.1-dev", &tags).as_deref(), Some("2-dev"));
    let error = registry.tags(&nowhere).unwrap_err();
    assert!(matches!(error, RegistryError::NotFound { .. }), "{error}");

    // A manifest over the size limit is refused, not read whole.
    let small = RegistryOptions {
        limits: Limits {
            manifest_bytes: 64,
            ..Limits::default()
        },
        ..options()
    };
    let error = Registry::new(small).unwrap().resolve(&present).unwrap_err();
    assert!(
        matches!(error, RegistryError::BadResponse { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("larger than 64 bytes"),
        "{error}"
    );
}

#[test]
fn a_registry_that_is_down_is_a_quick_clear_error() {
    let host = format!("127.0.0.1:{}", free_port());
    let reference = format!("{host}/hardened/node:20");
    let registry = Registry::new(options()).unwrap();
    let started = Instant::now();
    let error = registry.resolve(&image(&reference)).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        error.to_string(),
        format!("cannot reach {host} (connection refused) for {reference}")
    );
    assert!(registry.manifest_exists(&image(&reference)).is_err());
}

/// A CA, a server certificate for 127.0.0.1 it signed, and an htpasswd file for `hardport`
/// with password `right`.
fn secure(dir: &Path) -> (Secure, PathBuf) {
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    run(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=hardport test CA",
            "-keyout",
            &path("ca.key"),
            "-out",
            &path("ca.pem"),
        ],
    );
    run(
        "openssl",
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            &path("server.key"),
            "-out",
            &path("server.csr"),
        ],
    );
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    run(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            &path("server.csr"),
            "-CA",
            &path("ca.pem"),
            "-CAkey",
            &path("ca.key"),
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            &path("san.ext"),
            "-out",
            &path("server.pem"),
        ],
    );
    let htpasswd = run("htpasswd", &["-Bbn", "hardport", "right"]);
    std::fs::write(dir.join("htpasswd"), htpasswd).unwrap();
    (
        Secure {
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
            htpasswd: dir.join("htpasswd"),
        },
        dir.join("ca.pem"),
    )
}

/// A Docker config directory under `parent` whose `auths` hold `user:password` for `host`.
fn docker_config(parent: &Path, host: &str, credentials: &str) -> PathBuf {
    use base64::Engine as _;
    let dir = parent.join(sha256_hex(credentials.as_bytes()));
    std::fs::create_dir_all(&dir).unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(credentials);
    let mut file = std::fs::File::create(dir.join("config.json")).unwrap();
    write!(
        file,
        r#"{{"auths": {{"https://{host}": {{"auth": "{auth}"}}}}}}"#
    )
    .unwrap();
    dir
}

#[test]
fn htpasswd_auth_over_tls_takes_the_right_password_and_refuses_a_wrong_one() {
    let certificates = tempfile::tempdir().unwrap();
    let (secure, ca) = secure(certificates.path());
    let server = Server::start(Some(&secure));
    let layout = Layout::new();
    layout.build("x", &[&base()]);
    layout.config("x", &["--config.user", "node"]);
    let reference = format!("{}/private/node:20", server.host);
    layout.push("x", &reference, Some("hardport:right"));

    let with = |credentials: Option<&str>, roots: Vec<PathBuf>| RegistryOptions {
        extra_roots: roots,
        docker_config: credentials
            .map(|credentials| docker_config(certificates.path(), &server.host, credentials)),
        ..options()
    };
    let right = Registry::new(with(Some("hardport:right"), vec![ca.clone()])).unwrap();
    let resolved = right.resolve(&image(&reference)).unwrap();
    assert_eq!(resolved.spec.group, Some(Id("1001".into())));
    assert!(right.manifest_exists(&image(&reference)).unwrap());
    assert_eq!(right.tags(&image(&reference)).unwrap(), ["20"]);

    let wrong = Registry::new(with(Some("hardport:wrong"), vec![ca.clone()])).unwrap();
    let error = wrong.resolve(&image(&reference)).unwrap_err();
    assert!(matches!(error, RegistryError::AuthFailed { .. }), "{error}");
    assert_eq!(
        error.to_string(),
        format!(
            "{} refused the credentials for {reference}: the registry answered HTTP 401 to user \"hardport\"",
            server.host
        )
    );

    let anonymous = RegistryOptions {
        extra_roots: vec![ca],
        ..options()
    };
    let error = Registry::new(anonymous)
        .unwrap()
        .resolve(&image(&reference))
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::AuthRequired { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("docker login"), "{error}");

    // Without the CA the certificate is not trusted, and the TLS error is what is reported
    // (not the registry's answer to plain HTTP on its TLS port).
    let untrusted = Registry::new(with(Some("hardport:right"), Vec::new())).unwrap();
    let error = untrusted.resolve(&image(&reference)).unwrap_err();
    assert!(
        matches!(error, RegistryError::Unreachable { .. }),
        "{error}"
    );
    assert!(
        error.to_string().to_lowercase().contains("certificate"),
        "{error}"
    );
}

/// Run the real `hardport` in `dir`, with no Docker credentials of the machine's own.
fn hardport_in(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hardport"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("DOCKER_CONFIG", "/nonexistent/hardport-test-docker-config")
        .env("GIT_CEILING_DIRECTORIES", dir.parent().unwrap())
        .output()
        .expect("hardport runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Push the test's app images to the registry at `host`: `public/app:1.2` and `:1.2.7` (root,
/// an entrypoint script, a shell), `hardened/app:1.2` (uid 1000, no shell, an exec
/// entrypoint) and its `-dev` variant `hardened/app:1.2-dev` (a shell, apk and Wolfi's
/// `/etc/os-release`).
fn push_app_images(host: &str) {
    let layout = Layout::new();
    // The public image: root, an entrypoint script, a shell. The replacement: uid 1000, no
    // shell, an exec entrypoint; its -dev variant: a shell and apk.
    layout.build("public", &[&base()]);
    layout.config(
        "public",
        &[
            "--config.entrypoint",
            "/docker-entrypoint.sh",
            "--config.cmd",
            "serve",
        ],
    );
    layout.build(
        "hardened",
        &[&[
            Put::File("etc/passwd", PASSWD),
            Put::File("etc/group", GROUP),
        ]],
    );
    layout.config(
        "hardened",
        &[
            "--config.user",
            "1000",
            "--config.entrypoint",
            "/usr/bin/app",
            "--config.cmd",
            "--help",
        ],
    );
    let mut dev = base();
    dev.push(Put::File("etc/os-release", b"ID=wolfi\nNAME=\"Wolfi\"\n"));
    layout.build("dev", &[&dev]);
    layout.config(
        "dev",
        &[
            "--config.user",
            "1000",
            "--config.entrypoint",
            "/usr/bin/app",
        ],
    );
    for tag in ["1.2", "1.2.7"] {
        layout.push("public", &format!("{host}/public/app:{tag}"), None);
    }
    layout.push("hardened", &format!("{host}/hardened/app:1.2"), None);
    layout.push("dev", &format!("{host}/hardened/app:1.2-dev"), None);
}

#[test]
fn facts_resolve_writes_a_lock_that_migrate_uses_offline() {
    let server = Server::start(None);
    let host = server.host.clone();
    push_app_images(&host);

    let repo = tempfile::tempdir().unwrap();
    let repo = repo.path();
    std::fs::write(
        repo.join("Dockerfile"),
        format!("FROM {host}/public/app:1.2\nRUN apt-get update && apt-get install -y curl\nRUN echo built > /built\nCMD [\"serve\", \"--port\", \"8080\"]\n"),
    )
    .unwrap();
    write_app_catalog(repo, &host);
    let with = |command: &[&'static str]| {
        let mut args = command.to_vec();
        args.extend(["--no-default-catalog", "--catalog", "catalog.yaml"]);
        args
    };

    let before = hardport_in(repo, &with(&["migrate"]));
    assert!(
        text(&before.stderr).contains("warning[missing-fact]"),
        "{}",
        text(&before.stderr)
    );

    let resolved = hardport_in(repo, &with(&["facts", "resolve"]));
    let err = text(&resolved.stderr);
    assert_eq!(resolved.status.code(), Some(0), "{err}");
    assert!(err.contains("read 3 of 3 images; wrote "), "{err}");
    let lock_text = std::fs::read_to_string(repo.join("hardport.lock")).unwrap();
    let lock = hardport::lock::Lock::parse(&lock_text).unwrap();
    let keys: Vec<&String> = lock.images.keys().collect();
    let expected = [
        format!("{host}/hardened/app:1.2"),
        format!("{host}/hardened/app:1.2-dev"),
        format!("{host}/public/app:1.2"),
    ];
    assert_eq!(keys, expected.iter().collect::<Vec<_>>());
    let hardened = &lock.images[&expected[0]].facts;
    assert_eq!(hardened.uid(), Some(1000));
    assert_eq!(hardened.shell, Some(false));
    assert_eq!(
        hardened.entrypoint.as_deref(),
        Some(&["/usr/bin/app".to_owned()][..])
    );
    assert_eq!(
        lock.images[&expected[1]].facts.package_manager.as_deref(),
        Some("apk")
    );
    assert_eq!(
        lock.images[&expected[1]].facts.distribution.as_deref(),
        Some("wolfi")
    );
    assert_eq!(lock.images[&expected[2]].facts.uid(), Some(0));
    assert_eq!(
        lock.images[&expected[2]].digest,
        format!("sha256:{}", sha256_hex(&raw_manifest(&expected[2])))
    );

    // The lock answers what the catalog could not: no missing fact, the runtime user restored.
    let after = hardport_in(repo, &with(&["migrate"]));
    let (patch, err) = (text(&after.stdout), text(&after.stderr));
    assert!(!err.contains("missing-fact"), "{err}");
    assert!(
        patch.contains(&format!("+FROM {host}/hardened/app:1.2-dev")),
        "{patch}"
    );
    assert!(
        patch.contains("+USER root") && patch.contains("+USER 1000"),
        "{patch}"
    );
    // The -dev variant's apk and Wolfi names, read from its layers, convert the apt-get RUN.
    assert!(patch.contains("+RUN apk add --no-cache curl\n"), "{patch}");

    // Resolving again changes nothing.
    let again = hardport_in(repo, &with(&["facts", "resolve"]));
    assert!(
        text(&again.stderr).contains("unchanged:"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("hardport.lock")).unwrap(),
        lock_text
    );

    // A replacement tag that does not exist: an error naming it and the nearest published tag
    // of its line; what could be read is still locked.
    let missing = repo.join("missing");
    std::fs::create_dir(&missing).unwrap();
    std::fs::write(
        missing.join("Dockerfile"),
        format!("FROM {host}/public/app:1.2.7\n"),
    )
    .unwrap();
    let partial = hardport_in(
        repo,
        &with(&["facts", "resolve", "--lock", "missing.lock", "missing"]),
    );
    let err = text(&partial.stderr);
    assert_eq!(partial.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{host}/hardened/app:1.2.7: error: {host}/hardened/app:1.2.7 does not exist"
        )),
        "{err}"
    );
    assert!(
        err.contains("the nearest published tag of that line is `1.2`"),
        "{err}"
    );
    let partial_lock = std::fs::read_to_string(repo.join("missing.lock")).unwrap();
    assert!(
        partial_lock.contains(&format!("{host}/public/app:1.2.7:")),
        "{partial_lock}"
    );

    // `migrate --resolve` does both in one run: the same lock, the same patch.
    std::fs::remove_file(repo.join("hardport.lock")).unwrap();
    let both = hardport_in(repo, &with(&["migrate", "--resolve", "Dockerfile"]));
    assert_eq!(both.status.code(), Some(0), "{}", text(&both.stderr));
    assert_eq!(text(&both.stdout), patch);
    assert_eq!(
        std::fs::read_to_string(repo.join("hardport.lock")).unwrap(),
        lock_text
    );

    // With the registry gone, migrate gives the same result from the lock.
    drop(server);
    let offline = hardport_in(repo, &with(&["migrate", "Dockerfile"]));
    let online_again = (patch, err_after(&after));
    assert_eq!((text(&offline.stdout), text(&offline.stderr)), online_again);
}

fn err_after(output: &std::process::Output) -> String {
    text(&output.stderr)
}

/// `catalog.yaml` in `repo`: the test's public app replaced by the hardened one, with a `-dev`
/// variant.
fn write_app_catalog(repo: &Path, host: &str) {
    std::fs::write(
        repo.join("catalog.yaml"),
        format!(
            "version: 1\nimages:\n  - name: app\n    match: [{host}/public/app]\n    replacement: {host}/hardened/app\n    dev_tag_suffix: \"-dev\"\n    source: the test registry\n"
        ),
    )
    .unwrap();
}

/// The digest the test registry serves for `reference`'s manifest.
fn served_digest(reference: &str) -> String {
    format!("sha256:{}", sha256_hex(&raw_manifest(reference)))
}

#[test]
fn migrate_resolve_pin_pins_each_reference_by_the_digest_its_registry_serves() {
    let server = Server::start(None);
    let host = server.host.clone();
    push_app_images(&host);
    let repo = tempfile::tempdir().unwrap();
    let repo = repo.path();
    let public_digest = served_digest(&format!("{host}/public/app:1.2"));
    // A build stage on the pinned public image, and a file already migrated by hand.
    std::fs::write(
        repo.join("Dockerfile"),
        format!("FROM {host}/public/app:1.2@{public_digest} AS build\nRUN echo built > /built\nFROM {host}/public/app:1.2\nCOPY --from=build /built /built\n"),
    )
    .unwrap();
    std::fs::create_dir(repo.join("done")).unwrap();
    std::fs::write(
        repo.join("done/Dockerfile"),
        format!("FROM {host}/hardened/app:1.2\n"),
    )
    .unwrap();
    write_app_catalog(repo, &host);
    let args = [
        "migrate",
        "--resolve",
        "--pin",
        "--write",
        "--no-default-catalog",
        "--catalog",
        "catalog.yaml",
    ];
    let run = hardport_in(repo, &args);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let err = text(&run.stderr);
    assert!(
        !err.contains("missing-fact") && !err.contains("digest-dropped"),
        "{err}"
    );

    // The build stage runs a command: it is pinned on the -dev image, by the digest the
    // registry serves for that tag; the final stage and the hand-migrated file on production.
    let dev = served_digest(&format!("{host}/hardened/app:1.2-dev"));
    let production = served_digest(&format!("{host}/hardened/app:1.2"));
    assert_ne!(dev, production);
    let migrated = std::fs::read_to_string(repo.join("Dockerfile")).unwrap();
    assert!(
        migrated.starts_with(&format!(
            "FROM {host}/hardened/app:1.2-dev@{dev} AS build\n"
        )),
        "{migrated}"
    );
    assert!(
        migrated.contains(&format!("\nFROM {host}/hardened/app:1.2@{production}\n")),
        "{migrated}"
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("done/Dockerfile")).unwrap(),
        format!("FROM {host}/hardened/app:1.2@{production}\n")
    );

    // A pinned reference resolves to the image it was pinned on: the -dev digest is the
    // image with the package manager, as the registry serves it.
    let pinned_config = run_inspect(&format!("{host}/hardened/app@{dev}"));
    assert_eq!(
        pinned_config,
        run_inspect(&format!("{host}/hardened/app:1.2-dev"))
    );
    assert_ne!(
        pinned_config,
        run_inspect(&format!("{host}/hardened/app:1.2"))
    );

    // Pinned, the repository has nothing left to change, also offline.
    drop(server);
    let check = hardport_in(
        repo,
        &[
            "migrate",
            "--pin",
            "--check",
            "--no-default-catalog",
            "--catalog",
            "catalog.yaml",
        ],
    );
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
}
