//! Values a template tests with a fallback: `{{ if .Values.x }}…{{ else }}<defaults>{{ end }}`
//! renders the chart's own defaults while `x` is empty, so filling an empty `x: {}` switches
//! those defaults off, whatever they set.
//!
//! Airflow's `airflowPodSecurityContext` helper is the model: it tries
//! `.securityContexts.pod`, then `.securityContext` of the component it is given, then the
//! top-level ones, and else writes `runAsUser: {{ .Values.uid }}` and
//! `fsGroup: {{ .Values.gid }}`. A test written relative to a helper's argument
//! (`.securityContexts.pod`) cannot be tied to one component, so it is kept relative and
//! matches any values path that ends with it.

use crate::line_index::LineIndex;

/// One value a template tests in an `if`/`with` chain that has an `else`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback {
    /// The template, relative to the chart.
    pub template: String,
    /// 1-based line of the test.
    pub line: usize,
    /// The values path tested: `scheduler.securityContext`, or `securityContexts.pod` when
    /// it is read relative to a helper's argument.
    pub path: String,
    pub relative: bool,
    /// The ids the fallback writes from values (`runAsUser: {{ $.Values.uid }}`): what the
    /// pod gets while the tested block is empty.
    pub writes: Vec<WrittenId>,
}

/// One id a fallback writes from a values key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenId {
    /// `runAsUser`, `runAsGroup` or `fsGroup`.
    pub field: &'static str,
    /// The values key it is written from: `uid`, `controller.image.runAsUser`.
    pub path: String,
    /// Read relative to a helper's argument (`.uid`), not from `.Values`.
    pub relative: bool,
}

/// The id fields of a security context a fallback may write from values.
const ID_FIELDS: [&str; 3] = ["runAsUser", "runAsGroup", "fsGroup"];

impl Fallback {
    /// Whether this test reads the values key at `path`.
    pub fn tests(&self, path: &str) -> bool {
        if self.relative {
            path == self.path
                || path
                    .strip_suffix(self.path.as_str())
                    .is_some_and(|above| above.ends_with('.'))
        } else {
            path == self.path
        }
    }
}

impl Fallback {
    /// The values key `id` is written from, for the block at `tested` that this fallback
    /// tests: a relative `.uid` is read from the helper's argument, which is where a relative
    /// test found `tested` (`scheduler.securityContexts.pod` gives `scheduler.uid`). Unknown for
    /// a relative id beside an absolute test.
    pub fn written_path(&self, id: &WrittenId, tested: &str) -> Option<String> {
        if !id.relative {
            return Some(id.path.clone());
        }
        let above = tested
            .strip_suffix(self.path.as_str())
            .filter(|_| self.relative)?;
        Some(format!("{above}{}", id.path))
    }
}

/// Roots of the template data that are not values.
const NOT_VALUES: &[&str] = &[
    "Values",
    "Release",
    "Chart",
    "Capabilities",
    "Template",
    "Files",
];

/// An open `if`/`with`/`range` chain.
struct Chain {
    tests: Vec<Fallback>,
    /// Where the text of the final `else` starts, once one is seen.
    else_at: Option<usize>,
}

/// The fallbacks of one template text.
pub fn in_template(template: &str, text: &str) -> Vec<Fallback> {
    let mut found = Vec::new();
    let mut chains: Vec<Chain> = Vec::new();
    let lines = LineIndex::new(text);
    for (at, _) in text.match_indices("{{") {
        // An action that is never closed ends the template's actions: nothing after it is one.
        let Some(length) = text[at + 2..].find("}}") else {
            break;
        };
        let action = text[at + 2..at + 2 + length].trim_start_matches(['-', ' ', '\t', '\n']);
        let line = lines.line(at);
        let keyword = action
            .split(|c: char| !c.is_ascii_alphabetic())
            .next()
            .unwrap_or_default();
        match keyword {
            "if" | "with" => chains.push(Chain {
                tests: tested(template, line, &action[keyword.len()..]),
                else_at: None,
            }),
            "range" | "define" | "block" => chains.push(Chain {
                tests: Vec::new(),
                else_at: None,
            }),
            "else" => {
                if let Some(chain) = chains.last_mut() {
                    let rest = action["else".len()..].trim_start();
                    match rest
                        .strip_prefix("if ")
                        .or_else(|| rest.strip_prefix("with "))
                    {
                        Some(condition) => {
                            chain.tests.extend(tested(template, line, condition));
                        }
                        None => chain.else_at = Some(at + 2 + length + 2),
                    }
                }
            }
            "end" => {
                if let Some(chain) = chains.pop()
                    && let Some(else_at) = chain.else_at
                {
                    let writes = written_ids(text.get(else_at..at).unwrap_or_default());
                    found.extend(chain.tests.into_iter().map(|test| Fallback {
                        writes: writes.clone(),
                        ..test
                    }));
                }
            }
            _ => {}
        }
    }
    found
}

/// The values a condition reads: `.Values.a.b` and `$.Values.a.b` as `a.b`, other `.a.b` as
/// relative.
fn tested(template: &str, line: usize, condition: &str) -> Vec<Fallback> {
    references(condition)
        .into_iter()
        .map(|reference| Fallback {
            template: template.to_owned(),
            line,
            path: reference.path.to_owned(),
            relative: reference.relative,
            writes: Vec::new(),
        })
        .collect()
}

/// A values key an action names: `.Values.a.b` (or `$.Values.a.b`) as `a.b`, or `.a.b`
/// relative to the dot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference<'t> {
    pub path: &'t str,
    pub relative: bool,
}

/// The values keys `action` names, in order: each `.` that starts a reference (at the start,
/// or after a blank, `(` or `$`) followed by key characters; references to Helm's own roots
/// (`.Release`, `.Chart`, …) are not values.
pub fn references(action: &str) -> Vec<Reference<'_>> {
    let bytes = action.as_bytes();
    let mut found = Vec::new();
    for (at, _) in action.match_indices('.') {
        let before = at.checked_sub(1).map(|index| bytes[index]);
        if !before.is_none_or(|byte| matches!(byte, b' ' | b'(' | b'\t' | b'$')) {
            continue;
        }
        let rest = &action[at + 1..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(rest.len());
        let reference = rest[..end].trim_end_matches('.');
        let root = reference.split('.').next().unwrap_or_default();
        if reference.is_empty() || !root.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        match reference.strip_prefix("Values.") {
            Some(path) => found.push(Reference {
                path,
                relative: false,
            }),
            // `$.x` is the root's, not the dot's: no values key.
            None if NOT_VALUES.contains(&root) || before == Some(b'$') => {}
            None => found.push(Reference {
                path: reference,
                relative: true,
            }),
        }
    }
    found
}

/// The ids an `else` branch writes from values: a line `runAsUser: {{ $.Values.uid }}` (or a
/// relative `.uid`) whose value is that one reference.
fn written_ids(branch: &str) -> Vec<WrittenId> {
    branch
        .lines()
        .filter_map(|line| {
            let (field, value) = line.trim().split_once(':')?;
            let field = ID_FIELDS.into_iter().find(|id| *id == field)?;
            let reference = value
                .trim()
                .strip_prefix("{{")?
                .strip_suffix("}}")?
                .trim_matches(|c: char| c == '-' || c.is_whitespace())
                .trim_start_matches('$');
            let reference = reference.strip_prefix('.')?;
            let is_key = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
            if reference.is_empty() || !reference.chars().all(is_key) {
                return None;
            }
            let (path, relative) = match reference.strip_prefix("Values.") {
                Some(path) => (path, false),
                None if NOT_VALUES.contains(&reference.split('.').next()?) => return None,
                None => (reference, true),
            };
            Some(WrittenId {
                field,
                path: path.to_owned(),
                relative,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const AIRFLOW: &str = r#"{{- define "airflowPodSecurityContext" -}}
  {{- $ := index . 0 -}}
  {{- with index . 1 }}
    {{- if .securityContexts.pod -}}
{{ toYaml .securityContexts.pod | print }}
    {{- else if .securityContext -}}
{{ toYaml .securityContext | print }}
    {{- else if $.Values.securityContexts.pod -}}
{{ toYaml $.Values.securityContexts.pod | print }}
    {{- else -}}
runAsUser: {{ $.Values.uid }}
fsGroup: {{ $.Values.gid }}
    {{- end -}}
  {{- end -}}
{{- end -}}
"#;

    #[test]
    fn every_test_of_a_chain_with_an_else_is_a_fallback() {
        let found = in_template("templates/_helpers.yaml", AIRFLOW);
        let shown: Vec<(usize, &str, bool)> = found
            .iter()
            .map(|fallback| (fallback.line, fallback.path.as_str(), fallback.relative))
            .collect();
        assert_eq!(
            shown,
            [
                (4, "securityContexts.pod", true),
                (6, "securityContext", true),
                (8, "securityContexts.pod", false),
            ]
        );
        assert!(found[0].tests("scheduler.securityContexts.pod"));
        assert!(found[1].tests("securityContext"));
        assert!(!found[1].tests("podSecurityContext"), "a whole key only");
        assert!(found[2].tests("securityContexts.pod"));
        assert!(!found[2].tests("scheduler.securityContexts.pod"));
        assert_eq!(
            writes_of(&found[0]),
            [("runAsUser", "uid", false), ("fsGroup", "gid", false)]
        );
    }

    /// The ids `fallback` writes, as (field, values key, relative).
    fn writes_of(fallback: &Fallback) -> Vec<(&str, &str, bool)> {
        fallback
            .writes
            .iter()
            .map(|id| (id.field, id.path.as_str(), id.relative))
            .collect()
    }

    #[test]
    fn only_ids_written_from_one_value_are_written_ids() {
        let text = "{{- if .Values.c.ctx }}
{{ toYaml .Values.c.ctx }}
{{- else }}
runAsNonRoot: {{ .Values.c.image.runAsNonRoot }}
runAsUser: {{ .Values.c.image.runAsUser }}
runAsGroup: {{ .uid }}
fsGroup: 82
allowPrivilegeEscalation: {{ or .Values.a .Values.b }}
runAsUser: {{ .Release.Name }}
{{- end }}
";
        let found = in_template("t.yaml", text);
        assert_eq!(
            writes_of(&found[0]),
            [
                ("runAsUser", "c.image.runAsUser", false),
                ("runAsGroup", "uid", true)
            ]
        );
    }

    #[test]
    fn a_with_or_if_without_else_renders_nothing_when_empty_and_is_no_fallback() {
        let text = "{{- with .Values.podSecurityContext }}\nsecurityContext: {{ toYaml . }}\n{{- end }}\n{{ if .Values.a }}x{{ end }}\n";
        assert_eq!(in_template("t.yaml", text), []);
        let text = "{{ range .Values.items }}{{ if .enabled }}x{{ else }}y{{ end }}{{ end }}";
        let found = in_template("t.yaml", text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].path, "enabled");
    }
}
