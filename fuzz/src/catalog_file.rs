//! Target `catalog`: a catalog file nobody wrote, loaded as `--catalog FILE` loads it and used
//! to migrate a fixed set of real Dockerfiles and values files.
//!
//! A catalog decides what hardport writes into other people's files, so its strings must never
//! become more than what they stand for: a name with a line break would inject an instruction,
//! a path ending in `\` would join the next line to a `WORKDIR`, a name with a space would
//! rename a stage. The properties below check the files a catalog produces, whatever it says.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::LazyLock;

use hardport::catalog::{self, Catalog, CatalogError, CatalogOptions};
use hardport::discovery::FileKind;
use hardport::dockerfile;
use hardport::rules::Context;
use parse_dockerfile::Instruction;

use crate::{CHARTS, assert_migrates};

/// The registry `check_file` places the entries of a catalog that names none at
/// (`CHECK_REGISTRY` in src/catalog/mod.rs): loading with it as `--registry` must agree.
const CHECK_REGISTRY: &str = "registry.invalid";

/// The image configs a fuzzed catalog may name (`config:`), copied beside it: real ones from
/// tests/fixtures/oci, broken ones, and hostile ones whose facts hold line breaks and blanks.
/// Any other `config` value is not tried: it could name any file on this machine (or a FIFO).
const CONFIGS: [(&str, &str); 5] = [
    (
        "node.json",
        include_str!("../../tests/fixtures/oci/node-crane-config.json"),
    ),
    (
        "nonroot.json",
        include_str!("../../tests/fixtures/oci/nonroot-65532.json"),
    ),
    (
        "inspect.json",
        include_str!("../../tests/fixtures/oci/nginx-docker-inspect.json"),
    ),
    (
        "invalid.json",
        include_str!("../../tests/fixtures/oci/invalid.json"),
    ),
    ("hostile.json", HOSTILE_CONFIG),
];

/// An OCI image config whose every string would inject a line or a word if written as it is.
const HOSTILE_CONFIG: &str = r#"{
  "architecture": "amd64",
  "os": "linux",
  "config": {
    "User": "1000\nRUN touch /pwned",
    "WorkingDir": "/srv\nRUN touch /pwned",
    "Entrypoint": ["/bin/app\nRUN touch /pwned"],
    "Cmd": ["--x\n"],
    "Env": ["PATH=/bin\nRUN touch /pwned"],
    "Volumes": {"/data\nRUN touch /pwned": {}},
    "ExposedPorts": {"80/tcp\nRUN x": {}}
  },
  "rootfs": {"type": "layers", "diff_ids": []}
}"#;

/// The directory the catalog under test and the configs live in, one per process.
static DIR: LazyLock<PathBuf> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join(format!("hardport-fuzz-catalog-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the catalog directory");
    for (name, text) in CONFIGS {
        std::fs::write(dir.join(name), text).expect("write a config");
    }
    dir
});

/// Real files from testdata/ that exercise every rule a catalog fact drives: users and
/// owners, working directories and paths, entrypoints, heredocs, multi-stage builds, CRLF;
/// values files with and without security contexts.
const DOCKERFILES: [&str; 6] = [
    include_str!("../../testdata/user-and-ownership/Dockerfile"),
    include_str!("../../testdata/workdir-and-paths/Dockerfile"),
    include_str!("../../testdata/entrypoint-and-cmd/web/Dockerfile"),
    include_str!("../../testdata/entrypoint-and-cmd/db/Dockerfile"),
    include_str!("../../testdata/multi-stage/Dockerfile"),
    include_str!("../../testdata/line-endings/crlf.Dockerfile"),
];

const VALUES: [&str; 3] = [
    include_str!("../../testdata/demo/charts/web/values.yaml"),
    include_str!("../../testdata/helm-create/charts/shop/values.yaml"),
    include_str!("../../testdata/helm-bitnami/charts/mariadb/values.yaml"),
];

/// Target `catalog`: the input is a catalog file.
///
/// - Loading and `catalog check` never panic, and agree: `check_file` accepts the file exactly
///   when `Catalog::load` does (with `--registry` for a catalog that names none, as `check`
///   assumes), and counts its entries.
/// - With a catalog that loads (layered over the embedded one, and alone), every fixture
///   migrates without an internal error to text that parses, that a second run leaves alone,
///   whose Dockerfile instructions are the input's in order (only `USER` and `ENTRYPOINT []`
///   lines inserted, with a plain argument), whose stage names are the input's, and which
///   holds no control character or line-break character the input does not.
pub fn catalog(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        // `--catalog` reads UTF-8 text; other bytes are a read error, not a parse.
        return;
    };
    if !configs_are_fixtures(text) {
        return;
    }
    let path = DIR.join("catalog.yaml");
    std::fs::write(&path, text).expect("write the catalog");
    let checked = catalog::check_file(&path);
    let alone = |registry: Option<&str>| {
        Catalog::load(&CatalogOptions {
            use_default: false,
            files: vec![path.clone()],
            registry: registry.map(str::to_owned),
            ..CatalogOptions::default()
        })
    };
    let loaded = alone(Some(CHECK_REGISTRY));
    match (&checked, &loaded) {
        (Ok(count), Ok(catalog)) => assert_eq!(
            *count,
            catalog.entries().len(),
            "check counts entries the load does not"
        ),
        (Err(_), Err(_)) => return,
        (Ok(_), Err(error)) => panic!("check accepts a catalog the load refuses: {error}"),
        (Err(errors), Ok(_)) => panic!("check refuses a catalog the load accepts: {errors:?}"),
    }
    // Without --registry a catalog that names none is refused for that reason alone.
    let registry = match alone(None) {
        Ok(_) => None,
        Err(CatalogError::NoRegistry { .. }) => Some("fuzz.example.test/r"),
        Err(error) => panic!("a checked catalog fails to load without --registry: {error}"),
    };
    let layered = Catalog::load(&CatalogOptions {
        files: vec![path.clone()],
        registry: registry.map(str::to_owned),
        ..CatalogOptions::default()
    })
    .unwrap_or_else(|error| panic!("a checked catalog fails over the embedded one: {error}"));
    let alone = alone(registry)
        .unwrap_or_else(|error| panic!("a checked catalog fails with --registry: {error}"));
    for catalog in [&layered, &alone] {
        migrate_fixtures(catalog);
    }
}

/// Whether every `config` key of the file names one of [`CONFIGS`]: read with the same YAML
/// reader the loader uses, tags and all. A file this reader cannot read as a value is not
/// loadable either, and is tried (it names no file the loader would read).
fn configs_are_fixtures(text: &str) -> bool {
    fn walk(value: &serde_yaml_ng::Value) -> bool {
        use serde_yaml_ng::Value;
        match value {
            Value::Mapping(mapping) => mapping.iter().all(|(key, value)| {
                let names_config = match key {
                    Value::String(key) => key == "config",
                    Value::Tagged(tagged) => {
                        matches!(&tagged.value, Value::String(key) if key == "config")
                    }
                    _ => false,
                };
                let fixture = matches!(value, Value::String(name)
                    if CONFIGS.iter().any(|(fixture, _)| fixture == name));
                (!names_config || fixture || value.is_null()) && walk(key) && walk(value)
            }),
            Value::Sequence(items) => items.iter().all(walk),
            Value::Tagged(tagged) => walk(&tagged.value),
            _ => true,
        }
    }
    match serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text) {
        Ok(value) => walk(&value),
        Err(_) => !text.contains("config"),
    }
}

/// Every fixture, migrated with `catalog`, keeps its structure and gains no strange character.
fn migrate_fixtures(catalog: &Catalog) {
    for text in DOCKERFILES {
        let migration = assert_migrates(FileKind::Dockerfile, text, Context::new(catalog));
        check_dockerfile_structure(text, &migration.text);
        check_characters(text, &migration.text);
    }
    for (index, text) in VALUES.into_iter().enumerate() {
        // The shop chart's templates read the security contexts, the MariaDB chart is Bitnami's.
        let chart = CHARTS[[0, 3, 2][index]].as_ref();
        let context = Context::new(catalog).with_chart(chart);
        let migration = assert_migrates(FileKind::HelmValues, text, context);
        check_characters(text, &migration.text);
        assert!(
            serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&migration.text).is_ok(),
            "the migrated values file is not YAML to libyaml:\n{}",
            migration.text
        );
    }
}

/// One instruction as the structure check compares it: keyword, and the text of its
/// arguments for the instructions a rule may insert.
fn instructions(text: &str) -> Vec<(&'static str, String)> {
    let file = dockerfile::parse(text).expect("checked to parse");
    file.instructions()
        .iter()
        .map(|instruction| {
            let range = file.instruction_range(instruction).unwrap_or(0..0);
            (
                dockerfile::instruction_keyword(instruction),
                text[range].to_owned(),
            )
        })
        .collect()
}

fn stage_names(text: &str) -> Vec<Option<String>> {
    let file = dockerfile::parse(text).expect("checked to parse");
    file.instructions()
        .iter()
        .filter_map(|instruction| match instruction {
            Instruction::From(from) => {
                Some(from.as_.as_ref().map(|(_, name)| name.value.to_string()))
            }
            _ => None,
        })
        .collect()
}

/// The output's instructions are the input's, in order, with only `USER <word>` and
/// `ENTRYPOINT []` lines inserted (each a line of its own) and only `RUN`s removed (a `RUN`
/// whose package housekeeping `package-install` dropped runs nothing else); the stage names
/// are unchanged, and no line break appears that is not an inserted instruction's (a rewritten
/// `RUN` may lose some).
fn check_dockerfile_structure(before: &str, after: &str) {
    let old = instructions(before);
    let new = instructions(after);
    let mut next = 0;
    let mut inserted = 0;
    for (keyword, source) in &new {
        let matches = |next: usize| {
            old.get(next)
                .is_some_and(|(old_keyword, _)| old_keyword == keyword)
        };
        if matches(next) {
            next += 1;
            continue;
        }
        let argument = source
            .split_once([' ', '\t'])
            .map_or("", |(_, rest)| rest.trim_end());
        let plain_word = !argument.is_empty()
            && !argument
                .chars()
                .any(|ch| ch.is_whitespace() || ch.is_control());
        let insertable = match *keyword {
            "USER" => plain_word,
            "ENTRYPOINT" => argument == "[]",
            _ => false,
        };
        if insertable {
            inserted += 1;
            continue;
        }
        // Only a `RUN` may be gone.
        while !matches(next)
            && old
                .get(next)
                .is_some_and(|(old_keyword, _)| *old_keyword == "RUN")
        {
            next += 1;
        }
        assert!(
            matches(next),
            "an instruction the input does not have at this place: {source:?}\n{after}"
        );
        next += 1;
    }
    while old
        .get(next)
        .is_some_and(|(old_keyword, _)| *old_keyword == "RUN")
    {
        next += 1;
    }
    assert_eq!(
        next,
        old.len(),
        "input instructions are missing from the output:\n{after}"
    );
    assert!(
        line_breaks(after) <= line_breaks(before) + inserted,
        "the output has line breaks that are not inserted instructions:\n{after}"
    );
    assert_eq!(
        stage_names(after),
        stage_names(before),
        "a stage was renamed:\n{after}"
    );
}

fn line_breaks(text: &str) -> usize {
    text.bytes().filter(|&byte| byte == b'\n').count()
}

/// The characters a line may hold that are not what they look like: control characters (`\r`
/// alone included, not `\n` and `\t`) and Unicode's line and paragraph separators.
fn strange(ch: char) -> bool {
    (ch.is_control() && ch != '\n' && ch != '\t') || matches!(ch, '\u{2028}' | '\u{2029}')
}

/// The output holds no strange character the input does not, and no more lone `\r`.
fn check_characters(before: &str, after: &str) {
    let had: BTreeSet<char> = before.chars().filter(|&ch| strange(ch)).collect();
    let new: BTreeSet<char> = after.chars().filter(|&ch| strange(ch)).collect();
    assert!(
        new.is_subset(&had),
        "the output holds {:?}, which the input does not:\n{after:?}",
        new.difference(&had).collect::<Vec<_>>()
    );
    let lone_cr = |text: &str| text.replace("\r\n", "").matches('\r').count();
    assert!(
        lone_cr(after) <= lone_cr(before),
        "the output has more lone carriage returns than the input:\n{after:?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_testdata_catalogs_and_the_embedded_ones_pass() {
        for text in [
            include_str!("../../testdata/helm-create/catalog.yaml"),
            include_str!("../../testdata/helm-bitnami/catalog.yaml"),
            include_str!("../../src/catalog/minimus.yaml"),
            include_str!("../../src/catalog/chainguard.yaml"),
            include_str!("../../src/catalog/dhi.yaml"),
            // The first finding (docs/fuzzing.md): refused since its fix.
            include_str!("../corpus/catalog/seed-hostile-config.yaml"),
        ] {
            catalog(text.as_bytes());
        }
        assert!(DIR.join("catalog.yaml").is_file());
    }

    #[test]
    fn a_config_outside_the_fixtures_is_not_tried() {
        assert!(configs_are_fixtures("hardened: {config: node.json}"));
        assert!(!configs_are_fixtures("hardened: {config: /dev/zero}"));
        assert!(!configs_are_fixtures("hardened: {!!str config: ../x.json}"));
        assert!(!configs_are_fixtures("{: [config"));
    }

    #[test]
    #[should_panic(expected = "an instruction the input does not have")]
    fn an_injected_instruction_is_seen() {
        check_dockerfile_structure("FROM a\nUSER x\n", "FROM a\nUSER x\nRUN evil\n");
    }

    #[test]
    #[should_panic(expected = "a stage was renamed")]
    fn a_renamed_stage_is_seen() {
        check_dockerfile_structure("FROM a AS b\n", "FROM a AS c\n");
    }
}
