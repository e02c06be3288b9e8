//! Where a chart's templates run a shell in a container: exec probes, `command`/`args` and
//! lifecycle hooks that start `sh` or `bash`, and which values image that container runs.
//!
//! A template is Go template text around YAML; hardport does not run it. It reads it line by
//! line, the way the rendered YAML is laid out: a container is a list item (`- name:`,
//! `- image:`, any `- key:`) under `containers:`/`initContainers:` and everything indented
//! below it; its image is the `image:` line of that item,
//! whose `.Values.<path>` references (directly, or in the body of the `define` it calls with
//! `include`/`template`, followed a few levels deep) name the values image it runs. A shell
//! site is a `sh`/`bash` word written as a command in the item: a list entry (`- /bin/sh`),
//! the first element of a flow list (`["/bin/bash", "-c", …]`) or a `command:` value. The key
//! that holds it (`livenessProbe`, `command`, `lifecycle`, …) says what runs it, and a
//! `{{ if .Values.<path>.custom…Probe }}` guarding it names the value that overrides it.
//!
//! What it cannot place (a container whose image line names no values key, a shell built from
//! values) it leaves out; the rule reports only what it can tie to an image.

use std::collections::{BTreeMap, BTreeSet};

/// Programs that are a shell, as the last part of a path (`/bin/sh` → `sh`).
const SHELLS: &[&str] = &["sh", "bash", "ash", "dash", "zsh"];

/// How deep `include`s inside `define`s are followed.
const MAX_HELPER_DEPTH: usize = 4;

/// One place a template runs a shell in a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellSite {
    /// The template, relative to the chart (`templates/statefulset.yaml`).
    pub template: String,
    /// 1-based line of the shell word.
    pub line: usize,
    /// The shell as written (`/bin/bash`).
    pub shell: String,
    /// The key that runs it: `livenessProbe`, `readinessProbe`, `startupProbe`, `command`,
    /// `args`, `lifecycle`.
    pub runs_in: String,
    /// The values paths of the container's image (`image`, `metrics.image`).
    pub images: BTreeSet<String>,
    /// A values key whose `if` guards the site and that overrides it (`customLivenessProbe`).
    pub override_key: Option<String>,
}

/// A container a template writes: the values images its `image:` line reads, and every values
/// key the rest of its item reads (`nextcloud.mariaDbInitContainer` through a `with`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateContainer {
    pub template: String,
    /// 1-based line of the item's first line.
    pub line: usize,
    pub images: BTreeSet<String>,
    pub reads: Vec<String>,
    /// Whether the item writes a `securityContext:` of its own; without one, the container
    /// runs with the pod's ids.
    pub has_security_context: bool,
}

impl TemplateContainer {
    /// Whether this container reads the values key at `path` (or a mapping above it whole).
    pub fn reads_key(&self, path: &str) -> bool {
        self.reads.iter().any(|read| {
            path == read
                || path
                    .strip_prefix(read.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    }
}

/// The shell sites of a chart's templates, given as (path relative to the chart, text): the
/// one-call form of [`ShellScan`] the tests use.
#[cfg(test)]
pub(crate) fn shell_sites<'t>(
    templates: impl IntoIterator<Item = (String, &'t str)>,
) -> Vec<ShellSite> {
    let mut scan = ShellScan::default();
    for (path, text) in templates {
        scan.add(&path, text);
    }
    scan.finish().0
}

/// [`shell_sites`] one template at a time, so that a chart's texts need not be held together:
/// what each file says is kept (its sites and its `define`s), and helpers are followed at the
/// end, when every `define` is known.
#[derive(Debug, Default)]
pub struct ShellScan {
    helpers: BTreeMap<String, Helper>,
    raw: Vec<RawSite>,
    containers: Vec<RawContainer>,
}

/// A container before its image's helpers are followed.
#[derive(Debug)]
struct RawContainer {
    template: String,
    line: usize,
    refs: Vec<String>,
    helpers: Vec<String>,
    reads: Vec<String>,
    has_security_context: bool,
}

impl ShellScan {
    pub fn add(&mut self, path: &str, text: &str) {
        self.helpers.extend(defines(text));
        let (sites, containers) = sites_in(path, text);
        self.raw.extend(sites);
        self.containers.extend(containers);
    }

    /// The shell sites and the containers of every template added.
    pub fn finish(self) -> (Vec<ShellSite>, Vec<TemplateContainer>) {
        let helpers = self.helpers;
        let images_of = |refs: &[String], calls: &[String]| {
            let mut images: BTreeSet<String> =
                refs.iter().filter_map(|path| image_path(path)).collect();
            for helper in calls {
                images.extend(
                    helper_refs(&helpers, helper, 0)
                        .iter()
                        .filter_map(|path| image_path(path)),
                );
            }
            images
        };
        let containers = self
            .containers
            .into_iter()
            .map(|container| TemplateContainer {
                images: images_of(&container.refs, &container.helpers),
                template: container.template,
                line: container.line,
                reads: container.reads,
                has_security_context: container.has_security_context,
            })
            .collect();
        let sites = self
            .raw
            .into_iter()
            .filter_map(|site| {
                let images = images_of(&site.refs, &site.helpers);
                if images.is_empty() {
                    return None;
                }
                Some(ShellSite {
                    template: site.template,
                    line: site.line,
                    shell: site.shell,
                    runs_in: site.runs_in,
                    images,
                    override_key: site.override_key,
                })
            })
            .collect();
        (sites, containers)
    }
}

/// What a `define` reads: its `.Values` references and the helpers it calls.
#[derive(Debug, Default, Clone)]
struct Helper {
    refs: Vec<String>,
    calls: Vec<String>,
}

/// A site before its helpers are followed.
#[derive(Debug)]
struct RawSite {
    template: String,
    line: usize,
    shell: String,
    runs_in: String,
    refs: Vec<String>,
    helpers: Vec<String>,
    override_key: Option<String>,
}

fn helper_refs(helpers: &BTreeMap<String, Helper>, name: &str, depth: usize) -> Vec<String> {
    let Some(helper) = helpers.get(name).filter(|_| depth < MAX_HELPER_DEPTH) else {
        return Vec::new();
    };
    let mut refs = helper.refs.clone();
    for call in &helper.calls {
        refs.extend(helper_refs(helpers, call, depth + 1));
    }
    refs
}

/// The values path of the image a reference reads: `image.repository` → `image`,
/// `metrics.image` → `metrics.image`; `None` for references that are not an image's.
fn image_path(reference: &str) -> Option<String> {
    let mut parts: Vec<&str> = reference.split('.').collect();
    while parts.last().is_some_and(|last| {
        matches!(
            *last,
            "repository" | "tag" | "registry" | "digest" | "name" | "pullPolicy"
        )
    }) {
        parts.pop();
    }
    let ends_with = |part: &str, suffix: &str| part.to_ascii_lowercase().ends_with(suffix);
    // ingress-nginx's `controller.image.image` is the repository of `controller.image`.
    if parts.len() >= 2
        && parts[parts.len() - 1] == "image"
        && ends_with(parts[parts.len() - 2], "image")
    {
        parts.pop();
    }
    let is_image = parts.last().is_some_and(|last| ends_with(last, "image"))
        // Airflow's `images.redis`
        || (parts.len() >= 2 && ends_with(parts[parts.len() - 2], "images"));
    is_image.then(|| parts.join("."))
}

/// Where the body of a `define` that starts `text` ends: at the `end` that closes it, counting
/// the `if`, `with`, `range` and `block` actions opened inside it.
fn body_end(text: &str) -> usize {
    let mut depth = 0usize;
    for (at, _) in text.match_indices("{{") {
        let action = text[at + 2..].trim_start_matches(['-', ' ', '\t']);
        let word = action
            .split(|c: char| !c.is_ascii_alphabetic())
            .next()
            .unwrap_or_default();
        match word {
            "if" | "with" | "range" | "block" | "define" => depth += 1,
            "end" if depth == 0 => return at,
            "end" => depth -= 1,
            _ => {}
        }
    }
    text.len()
}

/// The `define`s of one template text.
fn defines(text: &str) -> Vec<(String, Helper)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("define \"") {
        let after = &rest[at + "define \"".len()..];
        let Some(end) = after.find('"') else { break };
        let name = after[..end].to_owned();
        let body_end = body_end(after);
        let body = &after[end..body_end];
        found.push((
            name,
            Helper {
                refs: values_refs(body),
                calls: helper_calls(body),
            },
        ));
        rest = &after[body_end..];
    }
    found
}

/// Every `.Values.a.b` in `text`, as `a.b`.
fn values_refs(text: &str) -> Vec<String> {
    text.match_indices(".Values.")
        .map(|(at, _)| {
            let rest = &text[at + ".Values.".len()..];
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
                .unwrap_or(rest.len());
            rest[..end].trim_end_matches('.').to_owned()
        })
        .filter(|reference| !reference.is_empty())
        .collect()
}

/// The helpers `text` calls: `include "name"` and `template "name"`.
fn helper_calls(text: &str) -> Vec<String> {
    let mut calls = Vec::new();
    for keyword in ["include \"", "template \""] {
        for (at, _) in text.match_indices(keyword) {
            let rest = &text[at + keyword.len()..];
            if let Some(end) = rest.find('"') {
                calls.push(rest[..end].to_owned());
            }
        }
    }
    calls
}

/// One line of a template: its indentation and text without it.
#[derive(Debug, Clone, Copy)]
struct Line<'t> {
    number: usize,
    indent: usize,
    text: &'t str,
}

impl Line<'_> {
    /// Template-only lines (`{{- if … }}`) and comments say nothing about the YAML layout.
    fn is_layout(&self) -> bool {
        !(self.text.is_empty() || self.text.starts_with("{{") || self.text.starts_with('#'))
    }
}

fn lines(text: &str) -> Vec<Line<'_>> {
    text.lines()
        .enumerate()
        .map(|(index, line)| {
            let text = line.trim_start();
            Line {
                number: index + 1,
                indent: line.len() - text.len(),
                text: text.trim_end(),
            }
        })
        .collect()
}

/// The shell sites and the containers of one template file, with the references of their
/// container's image.
fn sites_in(path: &str, text: &str) -> (Vec<RawSite>, Vec<RawContainer>) {
    let lines = lines(text);
    let relative = super::chart::relative_reads(text);
    let mut sites = Vec::new();
    let mut containers = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        // Any `- key:` item directly under `containers:` starts one (Argo CD writes `- command:`
        // first).
        let starts_container = line.text.strip_prefix("- ").is_some_and(|rest| {
            rest.split_once(':').is_some_and(|(key, _)| {
                !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
        });
        if !starts_container || !is_in_container_list(&lines[..start], line.indent) {
            continue;
        }
        let item = container_item(&lines, start);
        let Some(image) = item.iter().find(|line| {
            let key = line.text.trim_start_matches("- ");
            key.starts_with("image:")
        }) else {
            continue;
        };
        let mut refs = values_refs(image.text);
        if refs.is_empty() {
            refs = enclosing_with_refs(item, image);
        }
        let helpers = helper_calls(image.text);
        let last = item.last().map_or(line.number, |line| line.number);
        containers.push(RawContainer {
            template: path.to_owned(),
            line: line.number,
            refs: refs.clone(),
            helpers: helpers.clone(),
            reads: item
                .iter()
                .filter(|line| !std::ptr::eq(*line, image))
                .flat_map(|line| values_refs(line.text))
                .chain(
                    relative
                        .iter()
                        .filter(|(at, _)| (line.number..=last).contains(at) && *at != image.number)
                        .map(|(_, read)| read.clone()),
                )
                .collect(),
            has_security_context: item.iter().any(|line| {
                line.text
                    .trim_start_matches("- ")
                    .starts_with("securityContext:")
            }),
        });
        for (index, candidate) in item.iter().enumerate() {
            let Some(shell) = shell_word(candidate.text) else {
                continue;
            };
            let Some(runs_in) = holder(&item[..=index], candidate) else {
                continue;
            };
            let override_key = override_key(&lines, candidate.number, &runs_in);
            sites.push(RawSite {
                template: path.to_owned(),
                line: candidate.number,
                shell,
                runs_in,
                refs: refs.clone(),
                helpers: helpers.clone(),
                override_key,
            });
        }
    }
    (sites, containers)
}

/// The `.Values` references of the nearest `{{ with … }}` above the image line within its item:
/// ingress-nginx writes `{{- with (merge .Values.controller.admissionWebhooks.patch.image
/// .Values.global.image) }}` and then `image: {{ .registry }}/{{ .image }}`.
fn enclosing_with_refs(item: &[Line<'_>], image: &Line<'_>) -> Vec<String> {
    item.iter()
        .take_while(|line| !std::ptr::eq(*line, image))
        .filter(|line| {
            line.text.starts_with("{{")
                && line.text[2..]
                    .trim_start_matches(['-', ' '])
                    .starts_with("with ")
        })
        .last()
        .map(|line| values_refs(line.text))
        .unwrap_or_default()
}

/// Whether the list item at `indent` is in a `containers:`/`initContainers:` list.
fn is_in_container_list(before: &[Line<'_>], indent: usize) -> bool {
    before
        .iter()
        .rev()
        .filter(|line| line.is_layout())
        .find(|line| line.indent < indent || (line.indent == indent && !line.text.starts_with('-')))
        .is_some_and(|parent| {
            let key = parent.text.trim_end_matches(':');
            key.ends_with("ontainers") || key.ends_with("ontainers: {{")
        })
}

/// The lines of the list item starting at `start`: it and every line below it indented deeper
/// than its `-` (template-only lines included; they do not end it).
fn container_item<'l, 't>(lines: &'l [Line<'t>], start: usize) -> &'l [Line<'t>] {
    let indent = lines[start].indent;
    let end = lines[start + 1..]
        .iter()
        .position(|line| line.is_layout() && line.indent <= indent)
        .map_or(lines.len(), |offset| start + 1 + offset);
    &lines[start..end]
}

/// The shell a line runs, when it is written as a command: `- /bin/sh`, `["/bin/bash", "-c"`,
/// `command: sh`, `command: ["sh", …]`.
fn shell_word(text: &str) -> Option<String> {
    let value = text
        .strip_prefix("- ")
        .or_else(|| text.strip_prefix("command:"))
        .map(str::trim)?;
    let first = value.trim_start_matches('[').trim_start();
    let word: String = first
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| !matches!(c, '"' | '\'' | ',' | ']' | ' '))
        .collect();
    let program = word.rsplit('/').next().unwrap_or(&word);
    SHELLS.contains(&program).then_some(word)
}

/// The key that runs the command on `site`: the probe or `lifecycle` hook among the keys that
/// hold it, else the `command` or `args` that does.
fn holder(item: &[Line<'_>], site: &Line<'_>) -> Option<String> {
    let mut ancestors = Vec::new();
    if site.text.starts_with("command:") {
        ancestors.push("command");
    }
    let mut indent = site.indent;
    for line in item.iter().rev().skip(1).filter(|line| line.is_layout()) {
        if line.indent >= indent {
            continue;
        }
        indent = line.indent;
        ancestors.push(
            line.text
                .trim_start_matches("- ")
                .split(':')
                .next()
                .unwrap_or_default(),
        );
    }
    let hook = ancestors.iter().find(|key| {
        matches!(
            **key,
            "livenessProbe" | "readinessProbe" | "startupProbe" | "lifecycle"
        )
    });
    hook.or_else(|| {
        ancestors
            .first()
            .filter(|key| matches!(**key, "command" | "args"))
    })
    .map(|key| (*key).to_owned())
}

/// The values key an `if` above `line` tests, within the lines that lead to it, that replaces
/// what `runs_in` runs: a `custom…` key (Bitnami's `customLivenessProbe`), or a key named like
/// it (`master.command` for a command).
fn override_key(lines: &[Line<'_>], line: usize, runs_in: &str) -> Option<String> {
    lines[..line.saturating_sub(1)]
        .iter()
        .rev()
        .take(12)
        .filter(|line| line.text.starts_with("{{") && line.text.contains("if"))
        .flat_map(|line| values_refs(line.text))
        .find(|reference| {
            let last = reference.rsplit('.').next().unwrap_or_default();
            last.starts_with("custom") || last == runs_in
        })
}

/// The repositories the templates write when a values key leaves them empty, as
/// (`<path>.repository`, the default): `default "X" .Values.<path>.repository` and
/// `.Values.<path>.repository | default "X"` give `Some("X")`; a default that is an expression
/// (`| default (ternary …)`, `default $name …`) gives `None`. Traefik and Sentry name their
/// images only this way.
pub fn repository_defaults(text: &str) -> Vec<(String, Option<String>)> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("default ") {
        let before = text[..at].trim_end();
        let after = &text[at + "default ".len()..];
        let default = after
            .strip_prefix('"')
            .and_then(|rest| Some(rest[..rest.find('"')?].to_owned()));
        let path = match before.strip_suffix('|') {
            // `.Values.P | default …`
            Some(piped) => piped
                .trim_end()
                .rsplit(|c: char| c.is_whitespace() || c == '(')
                .next()
                .and_then(|token| values_refs(token).into_iter().next()),
            // `default "X" .Values.P` or `default $x .Values.P`
            None => {
                let argument_end = match &default {
                    Some(literal) => literal.len() + 2,
                    None if after.starts_with('$') => {
                        after.find(char::is_whitespace).unwrap_or(after.len())
                    }
                    None => continue,
                };
                after[argument_end..]
                    .split_whitespace()
                    .next()
                    .and_then(|token| values_refs(token).into_iter().next())
            }
        };
        if let Some(path) = path.filter(|path| path.ends_with(".repository")) {
            found.push((path, default.filter(|default| !default.is_empty())));
        }
    }
    found
}

#[cfg(test)]
mod tests;
