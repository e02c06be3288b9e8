use crate::discovery::FileKind;
use crate::rules::test_support::{has, run_kind};

fn run(text: &str) -> (String, Vec<String>) {
    run_kind(FileKind::Workflow, text)
}

#[test]
fn a_job_container_runs_its_steps_in_a_shell_so_it_gets_the_dev_variant() {
    let (text, messages) = run(
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    container: node:20-bookworm\n    steps:\n      - run: npm ci\n",
    );
    assert!(
        text.contains("    container: reg.example.dev/node:20-dev\n"),
        "{text}"
    );
    let rewrite = messages
        .iter()
        .find(|m| m.starts_with("workflow-image"))
        .expect("a rewrite");
    assert!(
        rewrite.contains("`jobs.test.container`: `node:20-bookworm` → `reg.example.dev/node:20-dev` (catalog entry `node`); the -dev variant, because its `run:` steps run in a shell"),
        "{rewrite}"
    );
    assert!(
        rewrite.contains("runs as uid 1000") && rewrite.contains("options: --user root"),
        "the workspace belongs to the runner's user: {rewrite}"
    );
}

#[test]
fn a_job_container_that_chooses_its_user_gets_no_advice_about_it() {
    let (text, messages) = run(
        "jobs:\n  test:\n    container:\n      image: node:20\n      options: --user root\n    steps: [{run: make}]\n",
    );
    assert!(
        text.contains("      image: reg.example.dev/node:20-dev\n"),
        "{text}"
    );
    assert!(
        !messages.iter().any(|m| m.contains("--user root")),
        "{messages:?}"
    );
}

#[test]
fn a_job_container_already_on_the_production_replacement_moves_to_dev() {
    let (text, _) = run("jobs:\n  test:\n    container: reg.example.dev/node:20\n");
    assert_eq!(
        text,
        "jobs:\n  test:\n    container: reg.example.dev/node:20-dev\n"
    );
}

#[test]
fn without_a_dev_variant_a_job_container_is_left_and_the_fact_named() {
    let text = "jobs:\n  test:\n    container: nginx:1.27\n";
    let (migrated, messages) = run(text);
    assert_eq!(
        migrated, text,
        "the production image has no shell for the steps"
    );
    assert!(
        has(
            &messages,
            "missing-fact: `jobs.test.container` needs a shell (its `run:` steps run in a shell), but the catalog entry `nginx` names no variant"
        ),
        "{messages:?}"
    );
}

#[test]
fn services_get_production_unless_docker_runs_a_health_command_in_them() {
    let (text, _) = run(
        "jobs:\n  test:\n    services:\n      db:\n        image: postgres:16\n      checked:\n        image: postgres:16\n        options: >-\n          --health-cmd pg_isready\n          --health-interval 10s\n",
    );
    assert!(
        text.contains("      db:\n        image: reg.example.dev/postgres:16\n"),
        "{text}"
    );
    assert!(
        text.contains("      checked:\n        image: reg.example.dev/postgres:16-dev\n"),
        "{text}"
    );
}

#[test]
fn images_a_matrix_gives_move_where_the_matrix_writes_them() {
    let (text, messages) = run(
        "jobs:\n  test:\n    strategy:\n      matrix:\n        image: [node:18, \"node:20\", debian:12]\n        include:\n          - image: postgres:16\n        exclude:\n          - image: node:18\n    container:\n      image: ${{ matrix.image }}\n  vector:\n    strategy:\n      matrix:\n        vector:\n          - {jobname: a, image: node:20-alpine}\n          - {jobname: b, image: alpine:3.20}\n    container: ${{ matrix.vector.image }}\n",
    );
    assert!(
        text.contains("        image: [reg.example.dev/node:18-dev, \"reg.example.dev/node:20-dev\", debian:12]\n"),
        "{text}"
    );
    assert!(
        text.contains("          - image: reg.example.dev/postgres:16-dev\n"),
        "{text}"
    );
    assert!(
        text.contains("          - image: reg.example.dev/node:18-dev\n    container:"),
        "an exclusion names what it excludes as the matrix now writes it: {text}"
    );
    assert!(
        text.contains("          - {jobname: a, image: reg.example.dev/node:20-dev}\n"),
        "{text}"
    );
    assert!(
        text.contains("      image: ${{ matrix.image }}\n"),
        "{text}"
    );
    assert!(
        has(
            &messages,
            "workflow-image: `jobs.test.strategy.matrix.image[0]`: `node:18` → `reg.example.dev/node:18-dev`"
        ),
        "{messages:?}"
    );
    assert!(
        has(
            &messages,
            "unmapped-image: no catalog entry replaces docker.io/library/debian"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_matrix_computed_by_an_expression_is_unresolved() {
    let text = "jobs:\n  test:\n    strategy:\n      matrix: ${{ fromJSON(needs.setup.outputs.matrix) }}\n    container:\n      image: ${{ matrix.image }}\n  other:\n    container: node:${{ matrix.version }}\n";
    let (migrated, messages) = run(text);
    assert_eq!(migrated, text);
    assert!(
        has(
            &messages,
            "unresolved-image: `jobs.test.container.image`: `${{ matrix.image }}` uses variables"
        ),
        "{messages:?}"
    );
    assert!(
        has(
            &messages,
            "unresolved-image: `jobs.other.container`: `node:${{ matrix.version }}` uses variables"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_service_s_variables_for_the_public_entrypoint_script_are_reported() {
    let (_, messages) = run(
        "jobs:\n  test:\n    services:\n      db:\n        image: postgres:16\n        env:\n          POSTGRES_PASSWORD: password\n          TZ: UTC\n",
    );
    assert!(
        has(
            &messages,
            "entrypoint-feature: `jobs.test.services.db.env`: `POSTGRES_PASSWORD` is read by the public postgres image's entrypoint script"
        ),
        "{messages:?}"
    );
}
