use super::*;

const NODE: &[u8] = include_bytes!("../../tests/fixtures/oci/node-crane-config.json");
const NGINX: &[u8] = include_bytes!("../../tests/fixtures/oci/nginx-docker-inspect.json");
const NONROOT: &[u8] = include_bytes!("../../tests/fixtures/oci/nonroot-65532.json");
const MINIMAL: &[u8] = include_bytes!("../../tests/fixtures/oci/minimal.json");
const MISSING_ROOTFS: &[u8] = include_bytes!("../../tests/fixtures/oci/missing-rootfs.json");
const INVALID: &[u8] = include_bytes!("../../tests/fixtures/oci/invalid.json");
const WRONG_SHAPE: &[u8] = include_bytes!("../../tests/fixtures/oci/wrong-shape.json");
const WRONG_TYPE: &[u8] = include_bytes!("../../tests/fixtures/oci/wrong-type.json");

fn parsed(bytes: &[u8]) -> ConfigFacts {
    parse(bytes, Path::new("config.json")).expect("the sample parses")
}

fn error(bytes: &[u8]) -> OciConfigError {
    parse(bytes, Path::new("config.json")).expect_err("the sample is rejected")
}

fn strings(items: &[&str]) -> Option<Vec<String>> {
    Some(items.iter().map(|item| (*item).to_owned()).collect())
}

#[test]
fn a_crane_config_gives_every_fact_with_defaults_for_what_it_leaves_out() {
    let facts = parsed(NODE);
    assert_eq!(facts.kind, ConfigKind::OciImageConfig);
    let spec = facts.spec;
    // No `User`: the runtime runs the image as root; no group is stated.
    assert_eq!(spec.user, Some(Id("0".into())));
    assert_eq!(spec.group, None);
    assert_eq!(spec.entrypoint, strings(&["docker-entrypoint.sh"]));
    assert_eq!(spec.cmd, strings(&["node"]));
    assert_eq!(spec.workdir.as_deref(), Some("/"));
    assert_eq!(spec.volumes, strings(&[]));
    assert_eq!(spec.exposed_ports, strings(&[]));
    let env = spec.env.expect("env");
    assert_eq!(env.get("NODE_VERSION").map(String::as_str), Some("20.19.5"));
    assert_eq!(env.len(), 3);
    // Facts a config cannot state stay unknown.
    assert_eq!((spec.shell, spec.package_manager), (None, None));
    assert_eq!((spec.users, spec.groups, spec.config), (None, None, None));
}

#[test]
fn docker_inspect_output_is_read_from_its_config_and_docker_only_fields_are_ignored() {
    let facts = parsed(NGINX);
    assert_eq!(facts.kind, ConfigKind::DockerInspect);
    let spec = facts.spec;
    // `"User": ""`, `"WorkingDir": ""` and `"Volumes": null` are the defaults.
    assert_eq!(spec.user, Some(Id("0".into())));
    assert_eq!(spec.workdir.as_deref(), Some("/"));
    assert_eq!(spec.volumes, strings(&[]));
    assert_eq!(spec.entrypoint, strings(&["/docker-entrypoint.sh"]));
    assert_eq!(spec.cmd, strings(&["nginx", "-g", "daemon off;"]));
    assert_eq!(spec.exposed_ports, strings(&["80/tcp"]));
    assert_eq!(
        spec.env
            .as_ref()
            .and_then(|env| env.get("NGINX_VERSION"))
            .map(String::as_str),
        Some("1.27.5")
    );
}

#[test]
fn one_docker_inspect_object_without_its_array_reads_the_same() {
    let array: Value = serde_json::from_slice(NGINX).expect("json");
    let object = serde_json::to_vec(&array[0]).expect("json");
    let alone = parsed(&object);
    assert_eq!(alone.kind, ConfigKind::DockerInspect);
    assert_eq!(alone.spec, parsed(NGINX).spec);
}

#[test]
fn a_uid_gid_user_gives_user_and_group_and_lists_are_sorted() {
    let spec = parsed(NONROOT).spec;
    assert_eq!(spec.user, Some(Id("65532".into())));
    assert_eq!(spec.group, Some(Id("65532".into())));
    assert_eq!((spec.uid(), spec.gid()), (Some(65532), Some(65532)));
    assert_eq!(spec.workdir.as_deref(), Some("/home/nonroot"));
    assert_eq!(spec.volumes, strings(&["/cache", "/var/lib/app"]));
    // Numeric order, not string order (which would put 443 before 53).
    assert_eq!(
        spec.exposed_ports,
        strings(&["53/udp", "443/tcp", "8080/tcp", "8443/tcp"])
    );
    // A value holding `=` keeps everything after the first one.
    assert_eq!(
        spec.env
            .as_ref()
            .and_then(|env| env.get("APP_OPTS"))
            .map(String::as_str),
        Some("--listen=:8080 --tls-port=8443")
    );
}

#[test]
fn a_named_user_stays_a_name_and_names_a_group_only_when_written() {
    let config = |user: &str| {
        format!(
            r#"{{"architecture":"amd64","os":"linux","config":{{"User":"{user}"}},"rootfs":{{"type":"layers","diff_ids":[]}}}}"#
        )
    };
    let spec = parsed(config("nonroot").as_bytes()).spec;
    assert_eq!((spec.user, spec.group), (Some(Id("nonroot".into())), None));
    let spec = parsed(config("app:staff").as_bytes()).spec;
    assert_eq!(
        (spec.user, spec.group),
        (Some(Id("app".into())), Some(Id("staff".into())))
    );
}

#[test]
fn a_config_that_states_little_gets_the_runtime_defaults() {
    let spec = parsed(MINIMAL).spec;
    assert_eq!(spec.cmd, strings(&["/app"]));
    assert_eq!(spec.entrypoint, strings(&[]));
    assert_eq!(spec.user, Some(Id("0".into())));
    assert_eq!(spec.workdir.as_deref(), Some("/"));
    assert_eq!(spec.env, Some(BTreeMap::new()));
    let no_config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    assert_eq!(parsed(no_config).spec.cmd, strings(&[]));
}

#[test]
fn a_missing_required_field_is_named_with_the_line() {
    let message = error(MISSING_ROOTFS).to_string();
    assert!(
        message.starts_with("config.json:8:1: missing field `rootfs`"),
        "{message}"
    );
    assert!(message.contains("crane config"), "{message}");
    let no_architecture = br#"{"os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let message = error(no_architecture).to_string();
    assert!(
        message.contains("missing field `architecture`"),
        "{message}"
    );
}

#[test]
fn invalid_json_is_reported_with_line_and_column() {
    let error = error(INVALID);
    assert!(
        matches!(error, OciConfigError::Json { line: 7, .. }),
        "{error:?}"
    );
    assert!(error.to_string().starts_with("config.json:7:"), "{error}");
    assert!(error.to_string().contains("trailing comma"), "{error}");
}

#[test]
fn a_field_of_the_wrong_type_is_named_by_its_path() {
    let message = error(WRONG_TYPE).to_string();
    assert!(
        message.starts_with("config.json:6:") && message.contains("`config.Cmd`: invalid type"),
        "{message}"
    );
    let docker = br#"[{"Config":{"Entrypoint":{"a":1}}}]"#;
    let message = error(docker).to_string();
    assert!(message.contains("`[0].Config.Entrypoint`"), "{message}");
}

#[test]
fn json_that_is_no_image_config_is_named_for_what_it_is() {
    let cases: [(&[u8], &str); 10] = [
        (WRONG_SHAPE, "not an OCI image config"),
        (
            br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"sha256:00"}}"#,
            "image manifest or index",
        ),
        (
            br#"[{"Id":"abc","State":{"Running":true},"Config":{"User":"1000"}}]"#,
            "of a container",
        ),
        (
            br#"{"Name":"docker.io/library/node","Digest":"sha256:00","Layers":[]}"#,
            "skopeo inspect --config",
        ),
        (b"[]", "empty `docker inspect` array"),
        (br#"[{"Config":{}},{"Config":{}}]"#, "of 2 images"),
        (b"[1]", "must hold an object with `Config`"),
        (br#"[{"Id":"abc"}]"#, "without `Config`"),
        (b"\"config\"", "found a string"),
        (b"null", "found null"),
    ];
    for (bytes, expected) in cases {
        let error = error(bytes);
        assert!(
            matches!(error, OciConfigError::Shape { .. }),
            "{expected}: {error:?}"
        );
        let message = error.to_string();
        assert!(
            message.starts_with("config.json: ") && message.contains(expected),
            "{expected}: {message}"
        );
    }
}

#[test]
fn values_the_config_grammar_does_not_allow_are_errors() {
    for user in [":1000", "1000:", ":"] {
        let bytes = format!(r#"[{{"Config":{{"User":"{user}"}}}}]"#);
        let message = error(bytes.as_bytes()).to_string();
        assert!(
            message.contains(&format!("`User` {user:?} is not")),
            "{user}: {message}"
        );
    }
    for entry in ["DEBUG", "=1"] {
        let bytes = format!(r#"[{{"Config":{{"Env":["PATH=/bin","{entry}"]}}}}]"#);
        let message = error(bytes.as_bytes()).to_string();
        assert!(
            message.contains(&format!("`Env` entry {entry:?} is not NAME=VALUE")),
            "{message}"
        );
    }
}

#[test]
fn bytes_that_are_not_json_are_errors_with_a_position() {
    for bytes in [
        &b""[..],
        b"\xff\xfe{}",
        b"{} trailing",
        b"{\"a\": \"\xff\"}",
    ] {
        let error = error(bytes);
        assert!(matches!(error, OciConfigError::Json { .. }), "{error:?}");
    }
}

#[test]
fn no_prefix_of_a_config_panics() {
    for sample in [NODE, NGINX, NONROOT] {
        for end in 0..sample.len() {
            let _ = parse(&sample[..end], Path::new("cut.json"));
        }
    }
}

#[test]
fn an_unreadable_file_is_named() {
    let missing = Path::new("/nonexistent/hardport/config.json");
    let error = read(missing).expect_err("no such file");
    assert!(matches!(error, OciConfigError::Read { .. }));
    assert!(
        error
            .to_string()
            .starts_with("/nonexistent/hardport/config.json: cannot read the image config: "),
        "{error}"
    );
}

/// A catalog names its configs; one naming a device or a FIFO is an error at once, never a
/// read that takes all memory or waits for a writer.
#[test]
fn a_config_that_is_not_a_regular_file_is_refused_unread() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("config.json");
    crate::input::make_fifo(&fifo);
    for path in [Path::new("/dev/zero"), fifo.as_path()] {
        let error = read(path).expect_err("not a regular file");
        assert!(error.to_string().ends_with("not a regular file"), "{error}");
    }
}

#[test]
fn the_citation_names_the_kind_the_path_and_the_sha256_of_the_bytes() {
    // The SHA-256 of no bytes, a published test vector (FIPS 180-4 examples).
    assert_eq!(
        sha256_hex(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let facts = parsed(MINIMAL);
    assert_eq!(facts.sha256, sha256_hex(MINIMAL));
    assert_eq!(
        facts.citation("cfg/minimal.json"),
        format!(
            "OCI image config cfg/minimal.json (sha256:{})",
            facts.sha256
        )
    );
    assert!(
        parsed(NGINX)
            .citation("n.json")
            .starts_with("`docker inspect` output n.json (sha256:")
    );
}
