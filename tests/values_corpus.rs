//! Whole-corpus property tests of the Helm values rules over every `helm-values` file of
//! `../shared/corpus/INDEX.tsv` (or `$HARDPORT_CORPUS_DIR`; skipped with a message when neither
//! exists). Each file is migrated with `tests/fixtures/helm-corpus-catalog.yaml` (test data
//! that maps images the corpus names, so the rules have work to do) layered over the embedded
//! catalog, and with the `Chart.yaml` beside it:
//!
//! - every file migrates (Helm accepts them all, so none may fail), the output parses again,
//!   and migrating the output changes nothing;
//! - read as YAML data, the output differs from the input only at keys a rule names: image
//!   fields and image strings, the ids of security contexts (and blocks holding only those),
//!   data paths, and `global.security.allowInsecureImages`;
//! - every comment line of the input is still in the output;
//! - the rules fire (so this test fails if they silently stop working);
//! - the patches of all files, applied with `git apply` to a committed copy of the inputs, give
//!   the outputs byte for byte.

mod common;

use common::corpus_dir;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use hardport::catalog::{Catalog, CatalogOptions};
use hardport::diff::unified_diff;
use hardport::discovery::FileKind;
use hardport::helm::SECURITY_CONTEXT_KEYS;
use hardport::helm::chart::Chart;
use hardport::migrate::{FileError, Migration, migrate_text};
use hardport::rules::{Context, Rule};
use hardport::yaml;
use serde::Deserialize;
use serde_yaml_ng::{Mapping, Value};

/// Files hardport must refuse because Helm rejects them too, with the reason; none of the
/// corpus is.
const EXPECTED_ERRORS: &[(&str, &str)] = &[];

/// Image mapping fields `helm-image` rewrites.
const IMAGE_FIELDS: [&str; 5] = ["registry", "repository", "tag", "version", "digest"];

/// Security-context fields `security-context` sets or adds.
const ID_FIELDS: [&str; 4] = ["runAsUser", "runAsGroup", "runAsNonRoot", "fsGroup"];

/// One corpus values file and what migrating it gave.
struct Migrated {
    path: String,
    original: String,
    chart: Option<Chart>,
    outcome: Result<Migration, FileError>,
}

impl Migrated {
    /// The migrated text, when the file migrated and changed.
    fn changed(&self) -> Option<&str> {
        self.outcome
            .as_ref()
            .ok()
            .map(|migration| migration.text.as_str())
            .filter(|text| *text != self.original)
    }
}

struct Corpus {
    catalog: Catalog,
    files: Vec<Migrated>,
}

/// Every values file of the corpus, migrated once for all tests of this file.
fn corpus() -> Option<&'static Corpus> {
    static CORPUS: OnceLock<Option<Corpus>> = OnceLock::new();
    let corpus = CORPUS.get_or_init(|| corpus_dir().map(|dir| migrate_corpus(&dir)));
    if corpus.is_none() {
        eprintln!("skipped: ../shared/corpus is not present");
    }
    corpus.as_ref()
}

fn migrate_corpus(dir: &Path) -> Corpus {
    let catalog = Catalog::load(&CatalogOptions {
        files: vec![
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/helm-corpus-catalog.yaml"),
        ],
        ..CatalogOptions::default()
    })
    .expect("test catalog loads");
    let index = std::fs::read_to_string(dir.join("INDEX.tsv")).expect("INDEX.tsv");
    let paths: Vec<&str> = index
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let path = fields.next()?;
            (fields.next()? == "helm-values").then_some(path)
        })
        .collect();
    assert!(
        paths.len() > 300,
        "the index lists {} values files",
        paths.len()
    );
    let files = paths
        .into_iter()
        .map(|path| {
            let file = dir.join(path);
            let original = std::fs::read_to_string(&file).expect("corpus file is UTF-8");
            // A Chart.yaml hardport cannot read is reported by `process_file` and the rules run
            // without it; the same here.
            let chart = Chart::load(
                file.parent().expect("a file has a parent"),
                hardport::input::DEFAULT_MAX_FILE_SIZE,
            )
            .ok()
            .flatten();
            let context = Context::new(&catalog).with_chart(chart.as_ref());
            let outcome = migrate_text(FileKind::HelmValues, &original, context);
            Migrated {
                path: path.to_owned(),
                original,
                chart,
                outcome,
            }
        })
        .collect();
    Corpus { catalog, files }
}

#[test]
fn every_values_file_migrates_reparses_and_is_stable() {
    let Some(corpus) = corpus() else { return };
    let mut problems = Vec::new();
    let mut refused = Vec::new();
    for file in &corpus.files {
        let path = &file.path;
        match &file.outcome {
            Ok(_) => {}
            Err(FileError::Parse { line, message, .. }) => {
                refused.push(path.as_str());
                if !EXPECTED_ERRORS.iter().any(|(expected, _)| expected == path) {
                    problems.push(format!(
                        "{path}: unexpected parse error at line {line:?}: {message}"
                    ));
                }
                continue;
            }
            Err(error) => {
                problems.push(format!("{path}: {error}"));
                continue;
            }
        }
        let Some(migrated) = file.changed() else {
            continue;
        };
        if let Err(error) = yaml::parse(migrated) {
            problems.push(format!(
                "{path}: the output no longer parses (line {:?}): {error}",
                error.line
            ));
            continue;
        }
        let context = Context::new(&corpus.catalog).with_chart(file.chart.as_ref());
        match migrate_text(FileKind::HelmValues, migrated, context) {
            Ok(again) if again.text == migrated => {}
            Ok(again) => problems.push(format!(
                "{path}: a second run changes the output again:\n{}",
                unified_diff(path, migrated, &again.text)
            )),
            Err(error) => problems.push(format!("{path}: the second run failed: {error}")),
        }
    }
    for (expected, reason) in EXPECTED_ERRORS {
        if !refused.contains(expected) {
            problems.push(format!(
                "{expected}: listed as refused ({reason}) but now migrates; update EXPECTED_ERRORS"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// How the input and output of one changed file compare as YAML data.
enum Comparison {
    /// Where the two differ.
    Compared(Vec<Difference>),
    /// serde_yaml_ng rejects the input (it is stricter than Helm in places), so this file is
    /// left out of the data checks.
    Unreadable(String),
    /// The input reads but the output does not, or has another number of documents.
    Broken(String),
}

/// Every changed file's [`Comparison`], by path, computed once.
fn comparisons(corpus: &'static Corpus) -> &'static Vec<(&'static str, Comparison)> {
    static COMPARISONS: OnceLock<Vec<(&str, Comparison)>> = OnceLock::new();
    COMPARISONS.get_or_init(|| {
        corpus
            .files
            .iter()
            .filter_map(|file| Some((file.path.as_str(), compare(&file.original, file.changed()?))))
            .collect()
    })
}

fn compare(original: &str, migrated: &str) -> Comparison {
    let before = match load(original) {
        Ok(documents) => documents,
        Err(error) => return Comparison::Unreadable(error.to_string()),
    };
    let after = match load(migrated) {
        Ok(documents) => documents,
        Err(error) => {
            return Comparison::Broken(format!(
                "serde_yaml_ng reads the input but not the output: {error}"
            ));
        }
    };
    if before.len() != after.len() {
        return Comparison::Broken(format!("{} documents became {}", before.len(), after.len()));
    }
    let mut differences = Vec::new();
    for (old, new) in before.iter().zip(&after) {
        differ(&mut Vec::new(), None, old, new, &mut differences);
    }
    Comparison::Compared(differences)
}

#[test]
fn values_change_only_at_keys_a_rule_names() {
    let Some(corpus) = corpus() else { return };
    let mut problems = Vec::new();
    let mut unreadable = Vec::new();
    let (mut compared, mut differences) = (0, 0);
    for (path, comparison) in comparisons(corpus) {
        match comparison {
            Comparison::Compared(found) => {
                compared += 1;
                differences += found.len();
                problems.extend(
                    found
                        .iter()
                        .filter(|difference| !allowed(difference))
                        .take(10)
                        .map(|difference| format!("{path}: {difference}")),
                );
            }
            Comparison::Unreadable(error) => unreadable.push(format!("{path}: {error}")),
            Comparison::Broken(problem) => problems.push(format!("{path}: {problem}")),
        }
    }
    eprintln!(
        "{compared} changed files compared as YAML data, {differences} differences; {} skipped (serde_yaml_ng rejects the input){}",
        unreadable.len(),
        unreadable
            .iter()
            .map(|line| format!("\n  {line}"))
            .collect::<String>()
    );
    assert!(compared > 50, "only {compared} files compared");
    assert!(
        unreadable.len() <= 3,
        "too many inputs serde_yaml_ng cannot read:\n{}",
        unreadable.join("\n")
    );
    assert!(
        problems.is_empty(),
        "{} differences at keys no rule names:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Charts that write the tag beside the image string (`image` and `imageTag`, as Elastic's
/// charts do) render `{{ .Values.image }}:{{ .Values.imageTag }}`
/// (elastic/helm-charts kibana/templates/deployment.yaml), so a tag written into the image
/// string renders a reference with two tags (`reg.mini.dev/kibana:latest:8.5.1`).
///
/// Currently fails (a `helm-image` bug): on elastic__helm-charts/kibana (embedded catalog)
/// and elasticsearch (test catalog). Minimal reproduction, embedded catalog:
/// `image: "docker.elastic.co/kibana/kibana"` + `imageTag: "8.5.1"` becomes
/// `image: "reg.mini.dev/kibana:latest"`; expected `image: "reg.mini.dev/kibana"`.
#[test]
fn image_strings_gain_no_tag_where_a_tag_key_beside_them_supplies_it() {
    let Some(corpus) = corpus() else { return };
    let mut problems = Vec::new();
    let mut checked = 0;
    for (path, comparison) in comparisons(corpus) {
        let Comparison::Compared(differences) = comparison else {
            continue;
        };
        for difference in differences {
            let (Some(key), Change::Changed { old, new }) =
                (difference.path.last(), &difference.change)
            else {
                continue;
            };
            let (Some(old), Some(new)) = (old.as_str(), new.as_str()) else {
                continue;
            };
            let tag_key = format!("{key}Tag");
            if !is_image_key(key) || !difference.siblings.contains(&tag_key) {
                continue;
            }
            checked += 1;
            if !has_tag(old) && has_tag(new) {
                problems.push(format!(
                    "{path}: `{}`: {old:?} → {new:?}, but the chart appends `{tag_key}` to it",
                    difference.path.join(".")
                ));
            }
        }
    }
    assert!(
        checked > 0,
        "no image string with a tag key beside it changed"
    );
    assert!(
        problems.is_empty(),
        "{} image strings got a tag while a tag key beside them supplies one (see this test's doc comment):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Whether an image reference names a tag (a `:` in its last path component).
fn has_tag(reference: &str) -> bool {
    let name = reference.split('@').next().unwrap_or(reference);
    name.rsplit('/')
        .next()
        .is_some_and(|last| last.contains(':'))
}

/// `allow-insecure-images` acts on Bitnami charts: a `Chart.yaml` that lists
/// `annotations.images` or depends on Bitnami's `common`, or values that name a `bitnami/*`
/// image (src/rules/helm_bitnami.rs). A chart that runs other images is none, even when a
/// catalog entry maps its image together with a Bitnami one.
///
/// Currently fails (an `allow-insecure-images` bug): `is_bitnami` counts a mapped image as
/// Bitnami when its catalog entry matches any `bitnami/*` repository, so entries that map a
/// Bitnami image together with another (`bitnami/kubectl` and `registry.k8s.io/kubectl`, …)
/// add the key to prometheus-community, argo-workflows and velero values. Minimal
/// reproduction: entry `{name: kubectl, match: [bitnami/kubectl, registry.k8s.io/kubectl]}`,
/// values `image: {repository: registry.k8s.io/kubectl, tag: v1.36.2}`: the output adds
/// `global.security.allowInsecureImages: true`; expected only the image rewritten.
#[test]
fn allow_insecure_images_is_set_in_bitnami_charts_only() {
    let Some(corpus) = corpus() else { return };
    let mut problems = Vec::new();
    let mut set = 0;
    for file in &corpus.files {
        let Ok(migration) = &file.outcome else {
            continue;
        };
        let fixed = migration
            .findings
            .iter()
            .any(|finding| finding.fixed && finding.rule == Rule::AllowInsecureImages);
        if !fixed {
            continue;
        }
        set += 1;
        let by_chart = file.chart.as_ref().is_some_and(Chart::is_bitnami);
        let by_images =
            load(&file.original).is_ok_and(|documents| documents.iter().any(names_bitnami_image));
        if !by_chart && !by_images {
            problems.push(format!(
                "{}: global.security.allowInsecureImages set, but neither its Chart.yaml nor its values name Bitnami",
                file.path
            ));
        }
    }
    assert!(set > 0, "allow-insecure-images never fixed");
    assert!(
        problems.is_empty(),
        "{} non-Bitnami charts got allowInsecureImages (see this test's doc comment):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Whether a `repository` or image string anywhere in `value` is a Docker Hub `bitnami/*`
/// image.
fn names_bitnami_image(value: &Value) -> bool {
    let bitnami = |text: &str| {
        text.trim_start_matches("docker.io/")
            .starts_with("bitnami/")
    };
    match value {
        Value::Mapping(mapping) => mapping.iter().any(|(key, value)| {
            let image_key = key
                .as_str()
                .is_some_and(|key| key == "repository" || is_image_key(key));
            (image_key && value.as_str().is_some_and(bitnami)) || names_bitnami_image(value)
        }),
        Value::Sequence(items) => items.iter().any(names_bitnami_image),
        Value::Tagged(tagged) => names_bitnami_image(&tagged.value),
        _ => false,
    }
}

/// Every document of `text` as a YAML value tree.
fn load(text: &str) -> Result<Vec<Value>, serde_yaml_ng::Error> {
    serde_yaml_ng::Deserializer::from_str(text)
        .map(Value::deserialize)
        .collect()
}

/// One place where two value trees differ.
struct Difference {
    path: Vec<String>,
    /// The keys of the input mapping that holds the changed key.
    siblings: Vec<String>,
    change: Change,
}

enum Change {
    Changed { old: Value, new: Value },
    Added(Value),
    Removed(Value),
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.path.join(".");
        match &self.change {
            Change::Changed { old, new } => {
                write!(f, "`{path}` changed: {} → {}", show(old), show(new))
            }
            Change::Added(value) => write!(f, "`{path}` added: {}", show(value)),
            Change::Removed(value) => write!(f, "`{path}` removed: {}", show(value)),
        }
    }
}

fn show(value: &Value) -> String {
    let text = serde_yaml_ng::to_string(value).unwrap_or_else(|_| format!("{value:?}"));
    let text = text.trim_end().replace('\n', "⏎");
    match text.char_indices().nth(120) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

/// Records every path where `old` and `new` differ: keys of mappings are compared one by one
/// (so a key added to a mapping, or `{}` turned into a block, is a difference at that key
/// only), sequences item by item when their lengths agree. `parent` is the input mapping
/// that holds `old`.
fn differ(
    path: &mut Vec<String>,
    parent: Option<&Mapping>,
    old: &Value,
    new: &Value,
    out: &mut Vec<Difference>,
) {
    let record = |path: &[String], parent: Option<&Mapping>, change| Difference {
        path: path.to_vec(),
        siblings: parent
            .into_iter()
            .flat_map(Mapping::keys)
            .map(key_text)
            .collect(),
        change,
    };
    match (old, new) {
        (Value::Mapping(old), Value::Mapping(new)) => {
            for (key, old_value) in old {
                path.push(key_text(key));
                match new.get(key) {
                    Some(new_value) => differ(path, Some(old), old_value, new_value, out),
                    None => out.push(record(path, Some(old), Change::Removed(old_value.clone()))),
                }
                path.pop();
            }
            for (key, new_value) in new {
                if !old.contains_key(key) {
                    path.push(key_text(key));
                    out.push(record(path, Some(old), Change::Added(new_value.clone())));
                    path.pop();
                }
            }
        }
        (Value::Sequence(old), Value::Sequence(new)) if old.len() == new.len() => {
            for (index, (old, new)) in old.iter().zip(new).enumerate() {
                path.push(format!("[{index}]"));
                differ(path, None, old, new, out);
                path.pop();
            }
        }
        _ if old != new => out.push(record(
            path,
            parent,
            Change::Changed {
                old: old.clone(),
                new: new.clone(),
            },
        )),
        _ => {}
    }
}

fn key_text(key: &Value) -> String {
    match key {
        Value::String(text) => text.clone(),
        other => show(other),
    }
}

/// Whether a rule may make this difference.
fn allowed(difference: &Difference) -> bool {
    let path: Vec<&str> = difference.path.iter().map(String::as_str).collect();
    let Some((&key, parents)) = path.split_last() else {
        return false;
    };
    let in_security_context = parents
        .last()
        .is_some_and(|parent| SECURITY_CONTEXT_KEYS.contains(parent));
    let insecure = ["global", "security", "allowInsecureImages"];
    match &difference.change {
        Change::Removed(_) => false,
        Change::Changed { old, new } => {
            IMAGE_FIELDS.contains(&key)
                || (is_image_key(key) && old.is_string() && new.is_string())
                || key.to_ascii_lowercase().ends_with("imagetag")
                || (ID_FIELDS.contains(&key) && in_security_context)
                || is_path_key(key)
                || path == insecure
        }
        Change::Added(value) => {
            (ID_FIELDS.contains(&key) && in_security_context)
                || (SECURITY_CONTEXT_KEYS.contains(&key)
                    && value.as_mapping().is_some_and(|block| {
                        block
                            .keys()
                            .all(|field| field.as_str().is_some_and(|f| ID_FIELDS.contains(&f)))
                    }))
                || insecure.iter().enumerate().any(|(depth, _)| {
                    path == insecure[..=depth] && *value == nested_true(&insecure[depth + 1..])
                })
        }
    }
}

/// `{a: {b: true}}` for `["a", "b"]`, `true` for `[]`.
fn nested_true(keys: &[&str]) -> Value {
    keys.iter().rev().fold(Value::Bool(true), |value, key| {
        let mut mapping = serde_yaml_ng::Mapping::new();
        mapping.insert(Value::String((*key).to_owned()), value);
        Value::Mapping(mapping)
    })
}

/// A key ending in `image`, in any case.
fn is_image_key(key: &str) -> bool {
    key.to_ascii_lowercase().ends_with("image")
}

/// A key whose path value `data-path` moves.
fn is_path_key(key: &str) -> bool {
    key == "mountPath" || key.to_ascii_lowercase().ends_with("datadir")
}

#[test]
fn every_comment_line_survives() {
    let Some(corpus) = corpus() else { return };
    let mut problems = Vec::new();
    for file in &corpus.files {
        let Some(migrated) = file.changed() else {
            continue;
        };
        let mut kept = comment_lines(migrated);
        for line in file.original.lines().filter(|line| is_comment(line)) {
            match kept.get_mut(line) {
                Some(count) if *count > 0 => *count -= 1,
                _ => problems.push(format!("{}: comment line lost: {line:?}", file.path)),
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} comment lines lost:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// Each comment line of `text` with the number of times it occurs.
fn comment_lines(text: &str) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for line in text.lines().filter(|line| is_comment(line)) {
        *counts.entry(line).or_insert(0) += 1;
    }
    counts
}

#[test]
fn the_rules_fire_on_the_corpus() {
    let Some(corpus) = corpus() else { return };
    let mut fixed: BTreeMap<&str, usize> = BTreeMap::new();
    let mut reported: BTreeMap<&str, usize> = BTreeMap::new();
    let mut changed = 0;
    for file in &corpus.files {
        let Ok(migration) = &file.outcome else {
            continue;
        };
        changed += usize::from(file.changed().is_some());
        for finding in &migration.findings {
            let counts = if finding.fixed {
                &mut fixed
            } else {
                &mut reported
            };
            *counts.entry(finding.rule.code()).or_insert(0) += 1;
        }
    }
    eprintln!(
        "{changed} of {} values files changed\nfixed: {fixed:?}\nreported: {reported:?}",
        corpus.files.len()
    );
    let count = |rule: &str| fixed.get(rule).copied().unwrap_or(0);
    assert!(changed > 50, "only {changed} files changed");
    assert!(
        count("helm-image") > 20,
        "helm-image fixed {}",
        count("helm-image")
    );
    assert!(
        count("security-context") > 0,
        "security-context never fixed"
    );
    assert!(count("data-path") > 0, "data-path never fixed");
    assert!(
        count("allow-insecure-images") > 0,
        "allow-insecure-images never fixed"
    );
}

#[test]
fn the_patches_apply_with_git_and_give_the_migrated_texts() {
    let Some(corpus) = corpus() else { return };
    let repo = tempfile::tempdir().expect("tempdir");
    let mut expected = BTreeMap::new();
    let mut patch = String::new();
    for file in &corpus.files {
        let target = repo.path().join(&file.path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(&target, &file.original).expect("write original");
        let text = match file.changed() {
            Some(migrated) => {
                patch.push_str(&unified_diff(&file.path, &file.original, migrated));
                migrated
            }
            None => &file.original,
        };
        expected.insert(PathBuf::from(&file.path), text.as_bytes().to_vec());
    }
    assert!(!patch.is_empty(), "no file changed");
    common::git(repo.path(), &["init", "--quiet"]);
    common::git(repo.path(), &["add", "--all"]);
    common::git(
        repo.path(),
        &[
            "-c",
            "user.name=hardport test",
            "-c",
            "user.email=test@example.test",
            "-c",
            "commit.gpgsign=false",
            "commit",
            "--quiet",
            "--message",
            "corpus values files",
        ],
    );
    let patch_file = tempfile::NamedTempFile::new().expect("patch file");
    std::fs::write(patch_file.path(), &patch).expect("write patch");
    common::git(
        repo.path(),
        &[
            "apply",
            patch_file.path().to_str().expect("UTF-8 temp path"),
        ],
    );
    let tree = common::read_tree(repo.path());
    let differing: Vec<String> = expected
        .iter()
        .filter(|(path, text)| tree.get(*path) != Some(text))
        .map(|(path, _)| path.display().to_string())
        .collect();
    assert!(
        differing.is_empty() && tree.len() == expected.len(),
        "after git apply, {} files differ from the migrated texts:\n{}",
        differing.len(),
        differing.join("\n")
    );
}
