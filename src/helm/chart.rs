//! What a values file's chart says about itself: `Chart.yaml` and the template texts.
//!
//! Rules read three things from it: `appVersion` (the tag an empty `image.tag` renders),
//! whether the chart is a Bitnami chart (its `annotations.images` list or its dependency on
//! Bitnami's `common` library), and whether the templates read a given values key (so a
//! missing `securityContext` block is inserted only where the chart will use it).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use super::fallbacks::{self, Fallback};
use super::subchart::{self, Dependency};
use super::templates::{ShellScan, ShellSite, TemplateContainer, repository_defaults};
use crate::diff::display_path;
use crate::input::{self, InputError, Links};
use crate::line_index::LineIndex;
use crate::yaml::{self, Document, Node, ScalarStyle};

/// The file name Helm reads a chart's metadata from.
pub const CHART_FILE: &str = "Chart.yaml";

/// Template files larger than this are not read: no real template is near it, and the
/// check that uses them only decides whether a block is inserted or reported.
const MAX_TEMPLATE_BYTES: u64 = 4 * 1024 * 1024;

/// A chart whose `templates/` holds more files than this is read without its templates (a
/// `chart-metadata` warning): the largest charts have a few hundred, and a `templates` that
/// leads somewhere huge must cost one chart, not the run.
const MAX_TEMPLATE_FILES: usize = 10_000;

/// A `Chart.yaml` larger than this is not read (a `chart-metadata` warning): real ones are a
/// few KB (the largest in the shared corpus is under 3 KB).
const MAX_CHART_BYTES: u64 = 1024 * 1024;

/// The parts of a chart the Helm values rules consult.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chart {
    /// Where `Chart.yaml` was read from.
    pub path: PathBuf,
    /// `appVersion`, as text (YAML authors write `1.16` unquoted as often as quoted).
    pub app_version: Option<String>,
    /// Whether Chart.yaml lists `annotations.images` (Bitnami's image verification list).
    pub lists_images: bool,
    /// Whether the chart depends on Bitnami's `common` library chart.
    pub uses_bitnami_common: bool,
    /// The values keys the files below `templates/` read, for [`Chart::templates_read`].
    pub values_read: ValuesRead,
    /// `dependencies`, each with its vendored copy under `charts/` when there is one.
    pub dependencies: Vec<Dependency>,
    /// Where the templates run a shell in a container, and which values image it runs.
    pub shell_sites: Vec<ShellSite>,
    /// The containers the templates write: the image each runs and the values it reads.
    pub containers: Vec<TemplateContainer>,
    /// The repositories the templates write when a values key leaves them empty, by the key's
    /// path (`image.repository` → `traefik`; `None` when the default is an expression).
    pub repository_defaults: BTreeMap<String, Option<String>>,
    /// The values the templates test with an `else` of their own defaults.
    pub fallbacks: Vec<Fallback>,
}

/// The values keys a chart's templates read: every `.Values.a.b.c` reference, kept as `a.b.c`.
/// Only the references are kept, not the template texts, so a run holds a few strings per
/// chart however large its templates are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValuesRead {
    paths: BTreeSet<String>,
}

impl ValuesRead {
    /// The references in `templates`.
    pub fn from_templates<'t>(templates: impl IntoIterator<Item = &'t str>) -> ValuesRead {
        let mut read = ValuesRead::default();
        for template in templates {
            read.add(template);
        }
        read
    }

    /// Adds the references of one template: `.Values.` and the key characters after it
    /// (letters, digits, `_`, and `.` between keys), and the keys read relative to a
    /// `{{ with .Values.a }}` (`.b` inside it reads `a.b`: external-dns's webhook reads
    /// `provider.webhook.securityContext` that way).
    fn add(&mut self, template: &str) {
        const PREFIX: &str = ".Values.";
        for (at, _) in template.match_indices(PREFIX) {
            let rest = &template[at + PREFIX.len()..];
            let end = rest
                .find(|next: char| !(next.is_alphanumeric() || next == '_' || next == '.'))
                .unwrap_or(rest.len());
            if end > 0 {
                self.paths.insert(rest[..end].to_owned());
            }
        }
        self.add_relative(template);
    }

    fn add_relative(&mut self, template: &str) {
        self.paths
            .extend(relative_reads(template).into_iter().map(|(_, path)| path));
    }

    /// Whether a template can see the key at `path`: a reference reads it (or a key below it),
    /// or reads a mapping above it whole (`.Values.image` handed to a helper reads
    /// `image.registry` too).
    pub fn reaches(&self, path: &str) -> bool {
        self.contains(path)
            || path
                .match_indices('.')
                .any(|(at, _)| self.paths.contains(&path[..at]))
    }

    /// Whether no template reads anything (the chart has no templates hardport could read).
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Whether a reference reads the key at `path` as a whole key: `path` itself, or a key
    /// below it (`path.more`), but not a longer key (`pathMore`).
    pub fn contains(&self, path: &str) -> bool {
        self.paths
            .range::<str, _>((Bound::Included(path), Bound::Unbounded))
            .take_while(|read| read.starts_with(path))
            .any(|read| read.len() == path.len() || read[path.len()..].starts_with('.'))
    }
}

/// The keys a template reads relative to the dot a `with` set to a values key, each with the
/// 1-based line of the action that reads it. The dot of each open action is tracked: `with`
/// sets it (to a values key, or to something unknown), `range` and `define` set it to something
/// unknown, `if` and `block` keep it, `end` restores it.
pub fn relative_reads(template: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut dots: Vec<Option<String>> = Vec::new();
    let lines = crate::line_index::LineIndex::new(template);
    let mut from = 0;
    while let Some(start) = template[from..].find("{{").map(|at| from + at) {
        let Some(length) = template[start + 2..].find("}}") else {
            break;
        };
        let action = template[start + 2..start + 2 + length]
            .trim_matches(|c: char| c == '-' || c.is_whitespace());
        from = start + 2 + length + 2;
        let dot = dots.last().cloned().flatten();
        let keyword = action
            .split(|c: char| !c.is_ascii_alphabetic())
            .next()
            .unwrap_or_default();
        let argument = action[keyword.len()..].trim();
        match keyword {
            "with" => dots.push(scoped_key(argument, dot.as_deref())),
            "range" | "define" => dots.push(None),
            "if" | "block" => dots.push(dot.clone()),
            "end" => {
                dots.pop();
            }
            _ => {}
        }
        if let Some(dot) = &dot {
            let line = lines.line(start);
            found.extend(
                super::fallbacks::references(action)
                    .into_iter()
                    .filter(|reference| reference.relative)
                    .map(|reference| (line, format!("{dot}.{}", reference.path))),
            );
        }
    }
    found
}

/// The values key a `with` argument sets the dot to: `.Values.a.b` (or `$.Values.a.b`), or
/// `.c` below a dot that is the values key `a`; `None` for anything else (a pipeline, a
/// function call).
fn scoped_key(argument: &str, dot: Option<&str>) -> Option<String> {
    let is_key = |text: &str| {
        !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
    };
    let argument = argument.trim_start_matches('$');
    if let Some(key) = argument.strip_prefix(".Values.") {
        return is_key(key).then(|| key.trim_end_matches('.').to_owned());
    }
    let key = argument.strip_prefix('.')?;
    let dot = dot.filter(|_| is_key(key) && !key.starts_with("Values"))?;
    Some(format!("{dot}.{key}"))
}

/// Why `Chart.yaml` could not be read. The values file is still migrated, without the
/// chart's facts, and the reason is reported on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}{}: {message}", line.map(|line| format!(":{line}")).unwrap_or_default())]
pub struct ChartError {
    pub path: String,
    pub line: Option<usize>,
    pub message: String,
}

impl Chart {
    /// Reads the chart in `dir`: `None` when the directory holds no `Chart.yaml`. No file is
    /// read through a symbolic link or beyond `max_file_size` bytes (nor beyond the chart's own
    /// limits, when lower): a chart is as untrusted as the values beside it.
    pub fn load(dir: &Path, max_file_size: u64) -> Result<Option<Chart>, ChartError> {
        let path = dir.join(CHART_FILE);
        let limit = MAX_CHART_BYTES.min(max_file_size);
        let text = match input::read_text(&path, limit, Links::Refuse) {
            Ok(text) => text,
            Err(InputError::NotFound(_)) => return Ok(None),
            Err(_) if std::fs::symlink_metadata(&path).is_err() => return Ok(None),
            Err(error) => {
                return Err(ChartError {
                    path: display_path(&path),
                    line: error.line(),
                    message: error.to_string(),
                });
            }
        };
        let mut chart = Chart::parse(&text).map_err(|(line, message)| ChartError {
            path: display_path(&path),
            line,
            message,
        })?;
        let templates = dir.join("templates");
        let read = read_templates(&templates, MAX_TEMPLATE_BYTES.min(max_file_size)).map_err(
            |message| ChartError {
                path: display_path(&templates),
                line: None,
                message,
            },
        )?;
        chart.values_read = read.values_read;
        chart.shell_sites = read.shell_sites;
        chart.containers = read.containers;
        chart.repository_defaults = read.repository_defaults;
        chart.fallbacks = read.fallbacks;
        subchart::find_vendored(dir, &mut chart.dependencies, max_file_size);
        chart.path = path;
        Ok(Some(chart))
    }

    /// Reads the metadata from the text of a `Chart.yaml` (without templates).
    pub fn parse(text: &str) -> Result<Chart, (Option<usize>, String)> {
        let stream = yaml::parse(text).map_err(|error| (error.line, error.message))?;
        let line = |offset: usize| Some(LineIndex::new(text).line(offset));
        let document = match stream.documents.as_slice() {
            [] => None,
            [document] => Some(document),
            [_, second, ..] => {
                return Err((
                    line(second.root.range.start),
                    "more than one YAML document".into(),
                ));
            }
        };
        let Some(document) = document else {
            return Ok(Chart::default());
        };
        let root = &document.root;
        if root.as_mapping().is_none() && !is_null_node(root) {
            return Err((None, "Chart.yaml is not a mapping".into()));
        }
        if let Some(key) = repeated_key(root) {
            return Err((
                line(key.range.start),
                format!("duplicate key `{}`", key.value().unwrap_or("?")),
            ));
        }
        let dependencies: Vec<&Node> = field(document, root, "dependencies")
            .map(|list| {
                list.items()
                    .iter()
                    .map(|item| follow(document, item))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Chart {
            app_version: text_at(document, root, "appVersion").map(str::to_owned),
            lists_images: field(document, root, "annotations")
                .and_then(|annotations| field(document, annotations, "images"))
                .is_some(),
            uses_bitnami_common: dependencies.iter().any(|dependency| {
                text_at(document, dependency, "name") == Some("common")
                    && text_at(document, dependency, "repository")
                        .is_some_and(|repository| repository.contains("bitnami"))
            }),
            dependencies: dependencies
                .iter()
                .filter_map(|dependency| subchart::listed(|key| text_at(document, dependency, key)))
                .collect(),
            ..Chart::default()
        })
    }

    /// Whether this is a Bitnami chart, by what its Chart.yaml says. Bitnami charts verify
    /// their images against `annotations.images` and come with the `common` library chart.
    pub fn is_bitnami(&self) -> bool {
        self.lists_images || self.uses_bitnami_common
    }

    /// Whether a template reads the values key at `path` (`podSecurityContext`,
    /// `primary.containerSecurityContext`), as `.Values.<path>` followed by a character that
    /// cannot continue a key. Always false for a chart without templates.
    pub fn templates_read(&self, path: &str) -> bool {
        self.values_read.contains(path)
    }

    /// The first template test of the key at `path` that falls back to the chart's own
    /// defaults while the key is empty ([`fallbacks`]).
    pub fn fallback_for(&self, path: &str) -> Option<&Fallback> {
        self.fallbacks.iter().find(|fallback| fallback.tests(path))
    }

    /// Whether the chart has templates at all: without them, nothing is known of what it reads.
    pub fn has_templates(&self) -> bool {
        !self.values_read.is_empty()
    }

    /// Whether the chart's templates are known and none can see the key at `path`: a value
    /// there changes nothing that is rendered (nextcloud's `nginx.image.registry`). Values
    /// under a dependency's key or `global` are read by subcharts' templates too, which are not
    /// this chart's: never ignored.
    pub fn templates_ignore(&self, path: &str) -> bool {
        let first = path.split('.').next().unwrap_or(path);
        let read_by_subcharts = first == "global"
            || self
                .dependencies
                .iter()
                .any(|dependency| dependency.key() == first);
        !read_by_subcharts && !self.values_read.is_empty() && !self.values_read.reaches(path)
    }
}

/// A chart directory's chart, read the first time a rule asks for it: the rules need a chart
/// only for images the catalog replaces, and most values files have none.
#[derive(Debug)]
struct SharedChart {
    dir: PathBuf,
    max_file_size: u64,
    loaded: OnceLock<Result<Option<Chart>, ChartError>>,
}

impl SharedChart {
    fn get(&self) -> &Result<Option<Chart>, ChartError> {
        self.loaded
            .get_or_init(|| Chart::load(&self.dir, self.max_file_size))
    }
}

/// One values file's view of its chart: read when a rule first asks (once per chart directory
/// when the view comes from a [`ChartCache`]), and whether this file's rules asked.
#[derive(Debug)]
pub struct LazyChart {
    shared: Arc<SharedChart>,
    asked: AtomicBool,
}

impl LazyChart {
    /// The chart in `dir` (`.` for the current directory), not read yet and not shared.
    pub fn new(dir: PathBuf, max_file_size: u64) -> LazyChart {
        LazyChart::of(Arc::new(SharedChart {
            dir,
            max_file_size,
            loaded: OnceLock::new(),
        }))
    }

    fn of(shared: Arc<SharedChart>) -> LazyChart {
        LazyChart {
            shared,
            asked: AtomicBool::new(false),
        }
    }

    /// The chart, read now if it was not yet: `None` when the directory holds no `Chart.yaml`
    /// or it cannot be read (see [`LazyChart::error`]).
    pub fn get(&self) -> Option<&Chart> {
        self.asked.store(true, Ordering::Relaxed);
        self.shared.get().as_ref().ok()?.as_ref()
    }

    /// Why the chart could not be read, when this file's rules asked for it and it could not.
    pub fn error(&self) -> Option<&ChartError> {
        if !self.asked.load(Ordering::Relaxed) {
            return None;
        }
        self.shared.loaded.get()?.as_ref().err()
    }
}

/// The charts of a run's values files, so that a chart with several values files
/// (`values.yaml`, `values-prod.yaml`) is read once. Files are migrated in path order, so the
/// values files of one chart come close together: the cache keeps the [`CACHED_CHARTS`] charts
/// asked for last, which bounds its memory on a repository of any size.
#[derive(Debug)]
pub struct ChartCache {
    recent: Mutex<VecDeque<Arc<SharedChart>>>,
    max_file_size: u64,
}

/// How many charts a [`ChartCache`] keeps.
const CACHED_CHARTS: usize = 64;

impl ChartCache {
    /// An empty cache of charts read with no file over `max_file_size` bytes.
    pub const fn new(max_file_size: u64) -> ChartCache {
        ChartCache {
            recent: Mutex::new(VecDeque::new()),
            max_file_size,
        }
    }

    /// The view of the chart in `dir` for one values file.
    pub fn chart(&self, dir: &Path) -> LazyChart {
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(shared) = recent.iter().find(|shared| shared.dir == dir) {
            return LazyChart::of(Arc::clone(shared));
        }
        let shared = Arc::new(SharedChart {
            dir: dir.to_path_buf(),
            max_file_size: self.max_file_size,
            loaded: OnceLock::new(),
        });
        if recent.len() == CACHED_CHARTS {
            recent.pop_front();
        }
        recent.push_back(Arc::clone(&shared));
        LazyChart::of(shared)
    }
}

/// The value under `key` of the mapping `node`, aliases followed.
fn field<'d>(document: &'d Document, node: &'d Node, key: &str) -> Option<&'d Node> {
    let value = follow(document, node).get(key)?;
    Some(follow(document, value))
}

/// The text ([`text_of`]) under `key` of the mapping `node`.
fn text_at<'d>(document: &'d Document, node: &'d Node, key: &str) -> Option<&'d str> {
    field(document, node, key).and_then(text_of)
}

/// The node an alias names, or `node` itself.
fn follow<'d>(document: &'d Document, node: &'d Node) -> &'d Node {
    document.resolve_alias(node).unwrap_or(node)
}

/// The text of a scalar as Helm reads a `Chart.yaml` string field: as written, numbers too
/// (`appVersion: 1.10` is `1.10` to Helm, whose YAML reader keeps a number's text for a
/// string field); nothing for a null, a boolean or a collection.
fn text_of(node: &Node) -> Option<&str> {
    let scalar = node.as_scalar()?;
    let plain = scalar.style == ScalarStyle::Plain;
    let special = yaml::is_null(&scalar.value)
        || matches!(
            scalar.value.as_str(),
            "true" | "True" | "TRUE" | "false" | "False" | "FALSE"
        );
    (!(plain && special)).then_some(scalar.value.as_str())
}

fn is_null_node(node: &Node) -> bool {
    node.as_scalar()
        .is_some_and(|scalar| scalar.style == ScalarStyle::Plain && yaml::is_null(&scalar.value))
}

/// The first key that repeats one before it in the same mapping, at any depth: Helm refuses
/// such a `Chart.yaml`, so hardport does not guess which one counts.
fn repeated_key(node: &Node) -> Option<&Node> {
    let mut seen = BTreeSet::new();
    for entry in node.entries() {
        if let Some(key) = entry.key.value()
            && !seen.insert(key)
        {
            return Some(&entry.key);
        }
    }
    node.entries()
        .iter()
        .map(|entry| &entry.value)
        .chain(node.items())
        .find_map(repeated_key)
}

/// What the files below `dir` (the chart's `templates/`) say: the values keys they read and
/// where they run a shell. A template that cannot be read as text of at most `limit` bytes is
/// passed over (they only decide whether a block is inserted or reported, and what is
/// reported, never what an edit writes); `dir` itself must be a directory, not a link to one,
/// and hold at most [`MAX_TEMPLATE_FILES`] files.
fn read_templates(dir: &Path, limit: u64) -> Result<Templates, String> {
    match std::fs::symlink_metadata(dir) {
        Err(_) => return Ok(Default::default()),
        Ok(metadata) if metadata.is_symlink() => {
            return Err(InputError::SymbolicLink.to_string());
        }
        Ok(metadata) if !metadata.is_dir() => return Ok(Default::default()),
        Ok(_) => {}
    }
    let mut paths = Vec::new();
    for entry in ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .follow_links(false)
        .build()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_some_and(|kind| kind.is_file()))
    {
        if paths.len() == MAX_TEMPLATE_FILES {
            return Err(format!(
                "more than {MAX_TEMPLATE_FILES} files; the templates were not read"
            ));
        }
        paths.push(entry.into_path());
    }
    paths.sort();
    let chart = dir.parent().unwrap_or(dir);
    let texts = paths.iter().filter_map(|path| {
        let text = input::read_text(path, limit, Links::Refuse).ok()?;
        let relative = path.strip_prefix(chart).unwrap_or(path);
        Some((relative.to_string_lossy().into_owned(), text))
    });
    Ok(Templates::read(texts))
}

/// What [`read_templates`] learns from a chart's templates.
#[derive(Debug, Default)]
struct Templates {
    values_read: ValuesRead,
    shell_sites: Vec<ShellSite>,
    containers: Vec<TemplateContainer>,
    repository_defaults: BTreeMap<String, Option<String>>,
    fallbacks: Vec<Fallback>,
}

impl Templates {
    /// What the templates say, given as (path relative to the chart, text), one at a time.
    fn read(texts: impl IntoIterator<Item = (String, String)>) -> Templates {
        let mut templates = Templates::default();
        let mut shells = ShellScan::default();
        for (path, text) in texts {
            templates.values_read.add(&text);
            templates
                .repository_defaults
                .extend(repository_defaults(&text));
            shells.add(&path, &text);
            templates
                .fallbacks
                .extend(fallbacks::in_template(&path, &text));
        }
        (templates.shell_sites, templates.containers) = shells.finish();
        templates
    }
}

impl Chart {
    /// A chart with these templates (path relative to the chart, text) and nothing else, for
    /// the rules' tests.
    #[cfg(test)]
    pub(crate) fn with_templates(templates: &[(&str, &str)]) -> Chart {
        let read = Templates::read(
            templates
                .iter()
                .map(|(path, text)| ((*path).to_owned(), (*text).to_owned())),
        );
        Chart {
            values_read: read.values_read,
            shell_sites: read.shell_sites,
            containers: read.containers,
            repository_defaults: read.repository_defaults,
            fallbacks: read.fallbacks,
            ..Chart::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bitnami_chart_is_known_by_its_image_list_or_its_common_dependency() {
        let listed = Chart::parse("name: x\nannotations:\n  images: |\n    - name: x\n").unwrap();
        assert!(listed.is_bitnami());
        let common = Chart::parse(
            "name: x\ndependencies:\n- name: common\n  repository: oci://registry-1.docker.io/bitnamicharts\n",
        )
        .unwrap();
        assert!(common.is_bitnami());
        let other = Chart::parse(
            "name: x\ndependencies:\n- name: common\n  repository: https://charts.example.com\n",
        )
        .unwrap();
        assert!(!other.is_bitnami());
    }

    #[test]
    fn app_version_is_text_even_when_written_as_a_number() {
        let chart = Chart::parse("name: x\nappVersion: 1.16\n").unwrap();
        assert_eq!(chart.app_version.as_deref(), Some("1.16"));
        let quoted = Chart::parse("appVersion: \"1.27.0-alpine\"\n").unwrap();
        assert_eq!(quoted.app_version.as_deref(), Some("1.27.0-alpine"));
    }

    #[test]
    fn app_version_keeps_the_text_helm_reads_for_a_string_field() {
        let text = |yaml: &str| Chart::parse(yaml).unwrap().app_version;
        assert_eq!(text("appVersion: 1.10\n").as_deref(), Some("1.10"));
        assert_eq!(text("appVersion: '1.0'\n").as_deref(), Some("1.0"));
        assert_eq!(
            text("v: &v 2.3.4\nappVersion: *v\n").as_deref(),
            Some("2.3.4")
        );
        assert_eq!(text("appVersion: true\n"), None);
        assert_eq!(text("appVersion:\n"), None);
        assert_eq!(text("appVersion: [1]\n"), None);
        assert_eq!(Chart::parse("# nothing\n").unwrap(), Chart::default());
    }

    #[test]
    fn dependencies_are_read_through_aliases() {
        let chart = Chart::parse(
            "common: &common\n  name: common\n  repository: https://charts.bitnami.com/bitnami\n\
             dependencies:\n- *common\n- name: redis\n  alias: cache\n  condition: ''\n- alias: nameless\n",
        )
        .unwrap();
        assert!(chart.is_bitnami());
        let names: Vec<_> = chart
            .dependencies
            .iter()
            .map(|dependency| (dependency.name.as_str(), dependency.alias.as_deref()))
            .collect();
        assert_eq!(names, [("common", None), ("redis", Some("cache"))]);
        assert_eq!(chart.dependencies[1].condition, None);
    }

    #[test]
    fn a_broken_chart_yaml_names_its_line() {
        let (line, _) = Chart::parse("name: x\n  bad: [\n").unwrap_err();
        assert!(line.is_some());
        let (line, message) = Chart::parse("name: x\nversion: 1\nname: y\n").unwrap_err();
        assert_eq!((line, message.as_str()), (Some(3), "duplicate key `name`"));
        let (line, _) = Chart::parse("name: x\n---\nname: y\n").unwrap_err();
        assert_eq!(line, Some(3));
        assert!(Chart::parse("- a list\n").is_err());
    }

    #[test]
    fn templates_read_a_key_only_as_a_whole_key() {
        let chart = Chart {
            values_read: ValuesRead::from_templates([
                "{{- toYaml .Values.podSecurityContext | nindent 8 }}",
                "{{ .Values.server.podSecurityContext.runAsUser }}{{ .Values.podSecurityContexts }}",
                "{{ $.Values.extra-x }}{{ .Values.a_b.c }}",
            ]),
            ..Chart::default()
        };
        assert!(chart.templates_read("podSecurityContext"));
        assert!(!chart.templates_read("podSecurity"));
        assert!(!chart.templates_read("securityContext"));
        assert!(chart.templates_read("server.podSecurityContext"));
        assert!(chart.templates_read("server"));
        assert!(!chart.templates_read("server.pod"));
        assert!(chart.templates_read("extra"), "`-` ends a key");
        assert!(chart.templates_read("a_b"));
        assert!(!chart.templates_read("a"));
    }

    #[test]
    fn keys_read_relative_to_a_with_are_read_under_its_key() {
        let chart = Chart {
            values_read: ValuesRead::from_templates([
                "{{- with .Values.provider.webhook }}\n{{- if .securityContext }}\nsecurityContext: {{ toYaml .securityContext }}\n{{- end }}\n{{- with .extra }}{{ .deep }}{{ end }}\n{{ .Release.Name }}\n{{- end }}\n{{ .outside }}",
                "{{- with .Values.a }}{{ range .items }}{{ .name }}{{ end }}{{ .after }}{{ end }}",
                "{{- with (merge .Values.b .Values.c) }}{{ .unknown }}{{ end }}",
            ]),
            ..Chart::default()
        };
        assert!(chart.templates_read("provider.webhook.securityContext"));
        assert!(chart.templates_read("provider.webhook.extra.deep"));
        assert!(!chart.templates_read("provider.webhook.Release"));
        assert!(!chart.templates_read("outside"), "outside the with");
        assert!(chart.templates_read("a.items"));
        assert!(chart.templates_read("a.after"), "after the range closes");
        assert!(
            !chart.templates_read("a.name"),
            "inside the range the dot is an item"
        );
        assert!(!chart.templates_read("b.unknown"));
    }

    #[test]
    fn templates_of_more_files_than_the_limit_are_not_read_and_the_chart_says_why() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CHART_FILE), "name: web\n").unwrap();
        let templates = dir.path().join("templates");
        std::fs::create_dir(&templates).unwrap();
        for number in 0..=MAX_TEMPLATE_FILES {
            std::fs::write(templates.join(format!("{number}.yaml")), "").unwrap();
        }
        let error = Chart::load(dir.path(), u64::MAX).unwrap_err();
        assert!(error.message.contains("more than 10000 files"), "{error}");
        std::fs::remove_file(templates.join("0.yaml")).unwrap();
        assert!(
            Chart::load(dir.path(), u64::MAX).unwrap().is_some(),
            "at the limit"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_templates_directory_is_not_walked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CHART_FILE), "name: web\n").unwrap();
        std::os::unix::fs::symlink("/proc", dir.path().join("templates")).unwrap();
        let error = Chart::load(dir.path(), u64::MAX).unwrap_err();
        assert!(error.message.contains("a symbolic link"), "{error}");
    }

    #[test]
    fn load_reads_chart_yaml_and_templates_and_none_without_a_chart() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Chart::load(dir.path(), u64::MAX).unwrap(), None);
        std::fs::write(
            dir.path().join(CHART_FILE),
            "name: web\nappVersion: 1.0.0\n",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("templates")).unwrap();
        std::fs::write(
            dir.path().join("templates/deployment.yaml"),
            "securityContext: {{ toYaml .Values.securityContext }}",
        )
        .unwrap();
        let chart = Chart::load(dir.path(), u64::MAX).unwrap().expect("a chart");
        assert_eq!(chart.app_version.as_deref(), Some("1.0.0"));
        assert!(chart.templates_read("securityContext"));
    }

    #[test]
    fn a_cached_chart_is_read_once_for_all_its_values_files_and_evicted_when_old() {
        let root = tempfile::tempdir().unwrap();
        let write = |dir: &Path, version: &str| {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join(CHART_FILE), format!("appVersion: {version}\n")).unwrap();
        };
        let first = root.path().join("first");
        write(&first, "1.0");
        let cache = ChartCache::new(u64::MAX);
        let values = cache.chart(&first);
        assert_eq!(values.get().unwrap().app_version.as_deref(), Some("1.0"));
        write(&first, "2.0");
        let values_prod = cache.chart(&first);
        assert_eq!(
            values_prod.get().unwrap().app_version.as_deref(),
            Some("1.0"),
            "read once, when the first values file asked"
        );
        for number in 0..CACHED_CHARTS {
            let other = root.path().join(format!("other-{number}"));
            write(&other, "0");
            cache.chart(&other).get();
        }
        assert_eq!(
            cache.chart(&first).get().unwrap().app_version.as_deref(),
            Some("2.0"),
            "evicted after {CACHED_CHARTS} other charts, so read again"
        );
    }

    #[test]
    fn a_chart_error_is_only_reported_to_values_files_whose_rules_asked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CHART_FILE), "name: [\n").unwrap();
        let cache = ChartCache::new(u64::MAX);
        let asking = cache.chart(dir.path());
        let silent = cache.chart(dir.path());
        assert!(asking.error().is_none(), "not asked yet");
        assert!(asking.get().is_none());
        assert!(asking.error().is_some());
        assert!(silent.error().is_none(), "its rules never asked");
    }

    #[test]
    fn an_unparsable_chart_yaml_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CHART_FILE), "name: [\n").unwrap();
        let error = Chart::load(dir.path(), u64::MAX).unwrap_err();
        assert!(error.to_string().contains("Chart.yaml"));
    }

    #[test]
    fn an_oversized_or_binary_chart_yaml_is_an_error_not_a_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CHART_FILE);
        std::fs::write(&path, "name: x\n".repeat(MAX_CHART_BYTES as usize)).unwrap();
        let error = Chart::load(dir.path(), u64::MAX).unwrap_err();
        assert!(error.message.contains("size limit"), "{error}");
        std::fs::write(&path, b"name: x\n\0\n").unwrap();
        let error = Chart::load(dir.path(), u64::MAX).unwrap_err();
        assert_eq!(error.line, Some(2), "{error}");
    }

    #[test]
    fn a_chart_yaml_of_expanding_aliases_is_read_without_expanding_them() {
        // Nine levels of nine aliases: 9^9 (387 million) strings if the aliases were expanded;
        // the tree keeps each alias as a reference.
        let mut text =
            String::from("name: x\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for level in 1..10 {
            let refs = vec![format!("*a{}", level - 1); 9].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{refs}]\n"));
        }
        text.push_str("appVersion: *a9\n");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CHART_FILE), text).unwrap();
        let chart = Chart::load(dir.path(), u64::MAX).unwrap().expect("a chart");
        assert_eq!(chart.app_version, None);
    }

    #[test]
    fn a_chart_yaml_of_nested_brackets_is_refused_with_its_line() {
        let text = format!(
            "apiVersion: v2\nname: x\nannotations:\n  a: {}{}\n",
            "[".repeat(500_000),
            "]".repeat(500_000)
        );
        let (line, message) = Chart::parse(&text).unwrap_err();
        assert_eq!(line, Some(4));
        assert_eq!(message, "flow collections nested more than 255 levels deep");
        // Up to the limit, the chart is read.
        let nested = format!("name: x\na: {}{}\n", "[".repeat(100), "]".repeat(100));
        assert!(Chart::parse(&nested).is_ok());
    }
}
