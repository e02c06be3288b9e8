//! `exec-probe`: probes that run a program inside a replacement that has no shell.
//!
//! ## What it reports
//! In the component that runs a mapped image, every `…Probe` (`livenessProbe`,
//! `customReadinessProbe`, `startupProbe`) with `exec.command`. When the catalog says the
//! replacement has no shell, a probe that runs `sh`/`bash` fails for certain and one that runs
//! another program (`redis-cli`, `pg_isready`) fails unless the replacement ships it, which
//! the catalog does not say; an `httpGet`, `tcpSocket` or `grpc` probe needs neither. When the
//! catalog does not say whether there is a shell, a shell probe is a `missing-fact`.
//!
//! The chart's templates are read too (see [`crate::helm::templates`]): a probe, `command`,
//! `args` or lifecycle hook written in a template that starts `sh` or `bash` in the container
//! of a values image that moves to a shell-less replacement is reported with the template's
//! path and line — `exec-probe` for a probe (with the values key that overrides it, such as
//! Bitnami's `customLivenessProbe`), `needs-shell` (error) for a command or hook, which cannot
//! start at all.
//!
//! ## Why
//! Kubernetes runs an exec probe inside the container. On a replacement without a shell,
//! `sh -c 'redis-cli ping'` cannot start, the probe fails, and the kubelet restarts a healthy
//! container (liveness) or never sends it traffic (readiness).
//!
//! ## Example
//! ```yaml
//! livenessProbe:
//!   exec:
//!     command: ["sh", "-c", "pg_isready -U postgres"]   # exec-probe: no shell on the replacement
//! ```
//!
//! ## Fix safety
//! Reports only. Nothing is rewritten: which port or endpoint proves the service healthy is
//! the chart author's knowledge, not a fact hardport has.

use crate::catalog::Entry;
use crate::diagnostic::Diagnostic;
use crate::helm::templates::ShellSite;
use crate::helm::{Setting, Values, ValuesImage};
use crate::rules::{Context, Rule, SHELLS, basename};
use crate::yaml::Node;

pub fn check(values: &Values<'_, '_>, context: Context<'_>) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for (image, entry) in values.mapped_components() {
        values.walk_component(image.component, &image.component_path, &mut |setting| {
            diagnostics.extend(probe(setting, entry));
        });
    }
    if let Some(chart) = context.chart() {
        diagnostics.extend(template_shells(values, &chart.shell_sites));
    }
    diagnostics
}

/// The template sites that start a shell in the container of a values image that moves to a
/// replacement without one (or of which the catalog does not say).
fn template_shells(values: &Values<'_, '_>, sites: &[ShellSite]) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    if sites.is_empty() {
        return diagnostics;
    }
    for image in &values.images {
        let Some(entry) = image
            .resolution
            .entry()
            .filter(|_| image.resolution.is_substituted())
        else {
            continue;
        };
        for site in sites
            .iter()
            .filter(|site| site.images.contains(&image.path))
        {
            diagnostics.extend(template_shell(image, entry, site));
        }
    }
    diagnostics
}

fn template_shell(
    image: &ValuesImage<'_, '_>,
    entry: &Entry,
    site: &ShellSite,
) -> Option<Diagnostic> {
    let place = format!(
        "{}:{} runs `{}` in the {} of the container running `{}`",
        site.template, site.line, site.shell, site.runs_in, image.path
    );
    let range = image.key_range.clone();
    match entry.hardened.shell {
        Some(true) => None,
        None => Some(Diagnostic::report(
            Rule::MissingFact,
            range,
            format!(
                "{place}; the catalog does not say whether {} has a shell (entry `{}`)",
                entry.replacement, entry.name
            ),
        )),
        Some(false) if site.runs_in.ends_with("Probe") => {
            let remedy = match &site.override_key {
                Some(key) => format!("set `{key}` to an httpGet, tcpSocket or grpc probe"),
                None => "override the probe with an httpGet, tcpSocket or grpc one".to_owned(),
            };
            Some(
                Diagnostic::report(
                    Rule::ExecProbe,
                    range,
                    format!("{place}, but {} has no shell", entry.replacement),
                )
                .suggest(remedy),
            )
        }
        Some(false) => Some(
            Diagnostic::report(
                Rule::NeedsShell,
                range,
                format!("{place}, but {} has no shell, so it cannot start", entry.replacement),
            )
            .suggest("run the program directly (exec form), or give this container an image with a shell"),
        ),
    }
}

fn probe(setting: Setting<'_, '_>, entry: &Entry) -> Option<Diagnostic> {
    let key = setting.key?;
    if !key.to_ascii_lowercase().ends_with("probe") {
        return None;
    }
    let command = setting.node.get("exec")?.get("command")?;
    let program = program(command)?;
    let name = basename(program);
    let is_shell = SHELLS.contains(&name);
    let (rule, message, suggestion) = match (entry.hardened.shell, is_shell) {
        (Some(true), _) | (None, false) => return None,
        (Some(false), true) => (
            Rule::ExecProbe,
            format!(
                "`{}` runs `{program}`, but {} has no shell",
                setting.path, entry.replacement
            ),
            Some("use an httpGet, tcpSocket or grpc probe, or a program the replacement ships"),
        ),
        (Some(false), false) => (
            Rule::ExecProbe,
            format!(
                "`{}` runs `{program}`; {} has no shell and the catalog does not say it ships `{name}`",
                setting.path, entry.replacement
            ),
            Some("check, or use an httpGet, tcpSocket or grpc probe"),
        ),
        (None, true) => (
            Rule::MissingFact,
            format!(
                "`{}` runs `{program}`; the catalog does not say whether {} has a shell (entry `{}`)",
                setting.path, entry.replacement, entry.name
            ),
            None,
        ),
    };
    let diagnostic = Diagnostic::report(rule, setting.node.range.clone(), message);
    Some(match suggestion {
        Some(suggestion) => diagnostic.suggest(suggestion),
        None => diagnostic,
    })
}

/// The program an exec command runs: the first item of a list, or the first word of a string.
fn program(command: &Node) -> Option<&str> {
    match command.items().first() {
        Some(first) => first.value(),
        None => command.value()?.split_whitespace().next(),
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::run_values;

    fn probes(values: &str) -> Vec<String> {
        let (text, messages) = run_values(values, None);
        assert!(
            !text.contains("exec:\n") || text.contains("command"),
            "probes are never edited"
        );
        messages
            .into_iter()
            .filter(|message| message.starts_with("exec-probe") || message.contains("shell (entry"))
            .collect()
    }

    #[test]
    fn shell_and_tool_probes_on_a_shell_less_replacement_are_reported() {
        let messages = probes(
            "image: redis:7\nmaster:\n  livenessProbe:\n    exec:\n      command: [sh, -c, redis-cli ping]\n  readinessProbe:\n    exec:\n      command:\n        - redis-cli\n        - ping\n  startupProbe:\n    tcpSocket: {port: 6379}\n",
        );
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0].contains(
                "`master.livenessProbe` runs `sh`, but reg.example.dev/redis has no shell"
            ),
            "{messages:?}"
        );
        assert!(
            messages[1].contains("`master.readinessProbe` runs `redis-cli`"),
            "{messages:?}"
        );
    }

    #[test]
    fn a_replacement_with_a_shell_needs_no_warning() {
        assert!(
            probes("image: node:20\nlivenessProbe:\n  exec:\n    command: [sh, -c, 'true']\n")
                .is_empty()
        );
    }

    #[test]
    fn another_component_s_probes_are_its_own() {
        let messages = probes(
            "image: node:20\nmetrics:\n  image: redis:7\n  livenessProbe:\n    exec:\n      command: [/bin/sh, -c, x]\n",
        );
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].contains("`metrics.livenessProbe` runs `/bin/sh`"),
            "{messages:?}"
        );
    }

    #[test]
    fn shells_the_templates_start_are_reported_with_their_template_line() {
        let template = "spec:\n  containers:\n    - name: db\n      image: {{ .Values.image.repository }}:{{ .Values.image.tag }}\n      command: [\"/bin/bash\", \"-c\", \"run\"]\n      {{- if .Values.customLivenessProbe }}\n      livenessProbe: {{ toYaml .Values.customLivenessProbe }}\n      {{- else }}\n      livenessProbe:\n        exec:\n          command:\n            - sh\n            - -c\n            - redis-cli ping\n      {{- end }}\n";
        let chart = crate::helm::chart::Chart::with_templates(&[("templates/db.yaml", template)]);
        let values = "image:\n  repository: redis\n  tag: \"7\"\n";
        let (_, messages) = crate::rules::test_support::run_values_in(values, &chart);
        assert!(
            messages.contains(&"needs-shell: templates/db.yaml:5 runs `/bin/bash` in the command of the container running `image`, but reg.example.dev/redis has no shell, so it cannot start: run the program directly (exec form), or give this container an image with a shell".to_owned()),
            "{messages:#?}"
        );
        assert!(
            messages.contains(&"exec-probe: templates/db.yaml:12 runs `sh` in the livenessProbe of the container running `image`, but reg.example.dev/redis has no shell: set `customLivenessProbe` to an httpGet, tcpSocket or grpc probe".to_owned()),
            "{messages:#?}"
        );
        // A replacement with a shell runs them as before.
        let values = "image:\n  repository: node\n  tag: \"20\"\n";
        let (_, messages) = crate::rules::test_support::run_values_in(values, &chart);
        assert!(
            !messages
                .iter()
                .any(|message| message.contains("templates/db.yaml")),
            "{messages:#?}"
        );
    }
}
