use crate::discovery::FileKind;
use crate::rules::test_support::{has, run_kind};

fn run(text: &str) -> (String, Vec<String>) {
    run_kind(FileKind::Compose, text)
}

#[test]
fn pulled_images_move_and_a_built_image_keeps_its_name() {
    let (text, messages) = run(
        "services:\n  web:\n    build: .\n    image: node:20\n  db:\n    image: \"postgres:16-alpine\"\n  cache:\n    image: memcached:1.6\n",
    );
    assert_eq!(
        text,
        "services:\n  web:\n    build: .\n    image: node:20\n  db:\n    image: \"reg.example.dev/postgres:16\"\n  cache:\n    image: memcached:1.6\n"
    );
    assert!(
        has(
            &messages,
            "compose-image: `services.db.image`: `postgres:16-alpine` → `reg.example.dev/postgres:16`"
        ),
        "{messages:?}"
    );
    assert!(
        has(
            &messages,
            "unmapped-image: no catalog entry replaces docker.io/library/memcached"
        ),
        "{messages:?}"
    );
}

#[test]
fn an_image_merged_from_an_extension_block_is_edited_once_at_its_anchor() {
    let (text, messages) =
        run("x-db: &db\n  image: postgres:16\nservices:\n  a:\n    <<: *db\n  b:\n    <<: *db\n");
    assert_eq!(
        text,
        "x-db: &db\n  image: reg.example.dev/postgres:16\nservices:\n  a:\n    <<: *db\n  b:\n    <<: *db\n"
    );
    let rewrites: Vec<&String> = messages
        .iter()
        .filter(|m| m.starts_with("compose-image"))
        .collect();
    assert_eq!(
        rewrites,
        [
            "compose-image: `x-db.image`: `postgres:16` → `reg.example.dev/postgres:16` (catalog entry `postgres`)"
        ],
        "one value, one report, named where it is written"
    );
}

#[test]
fn variables_in_a_reference_are_not_guessed() {
    let text = "services:\n  db:\n    image: postgres:${POSTGRES_TAG:-16}\n";
    let (migrated, messages) = run(text);
    assert_eq!(migrated, text);
    assert!(
        has(
            &messages,
            "unresolved-image: `services.db.image`: `postgres:${POSTGRES_TAG:-16}` uses variables"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_public_user_name_becomes_the_replacement_id_and_chosen_ids_stay() {
    let (text, messages) = run(
        "services:\n  a:\n    image: postgres:16\n    user: postgres\n  b:\n    image: postgres:16\n    user: postgres:postgres\n  c:\n    image: postgres:16\n    user: \"1000\"\n  d:\n    image: postgres:16\n    user: root\n",
    );
    assert!(
        text.contains("  a:\n    image: reg.example.dev/postgres:16\n    user: \"70\"\n"),
        "{text}"
    );
    assert!(text.contains("    user: \"70:70\"\n"), "{text}");
    assert!(text.contains("    user: \"1000\"\n"), "{text}");
    assert!(text.contains("    user: root\n"), "{text}");
    assert!(
        has(
            &messages,
            "user-mapping: `services.a.user`: `postgres` → `70`"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_public_user_without_the_replacement_id_is_a_missing_fact() {
    let (text, messages) = run("services:\n  web:\n    image: nginx:1.27\n    user: nginx:nginx\n");
    assert!(text.contains("user: nginx:nginx"), "{text}");
    assert!(
        has(
            &messages,
            "missing-fact: `services.web.user` names `nginx` of the public image"
        ),
        "the group's gid is unknown: {messages:?}"
    );
}

#[test]
fn shells_in_commands_and_health_checks_are_reported_and_left() {
    let text = "services:\n  web:\n    image: nginx:1.27\n    command: /bin/bash -c \"envsubst < a > b && nginx\"\n  db:\n    image: postgres:16\n    command: postgres -c fsync=off\n    healthcheck:\n      test: [\"CMD-SHELL\", \"pg_isready -U $$POSTGRES_USER\"]\n  db2:\n    image: postgres:16\n    healthcheck:\n      test: [\"CMD\", \"pg_isready\"]\n  db3:\n    image: postgres:16\n    healthcheck:\n      test: pg_isready\n";
    let (migrated, messages) = run(text);
    assert!(
        migrated.contains("command: /bin/bash -c"),
        "commands are never rewritten"
    );
    let reported: Vec<&String> = messages
        .iter()
        .filter(|m| m.starts_with("needs-shell") || m.starts_with("exec-probe"))
        .collect();
    assert_eq!(reported.len(), 4, "{messages:?}");
    assert!(reported[0].starts_with("needs-shell: `services.web.command` runs `/bin/bash`, but reg.example.dev/nginx has no shell"));
    assert!(reported[1].starts_with(
        "exec-probe: `services.db.healthcheck.test` runs `pg_isready` through a shell"
    ));
    assert!(reported[2].starts_with("exec-probe: `services.db2.healthcheck.test` runs `pg_isready`; reg.example.dev/postgres has no shell and the catalog does not say it ships `pg_isready`"));
    assert!(
        reported[3].contains("`services.db3.healthcheck.test` runs `pg_isready` through a shell"),
        "a string test is CMD-SHELL"
    );
    assert!(
        !messages
            .iter()
            .any(|m| m.starts_with("needs-shell: `services.db.command`")),
        "`postgres -c …` starts no shell (Compose splits it into words): {messages:?}"
    );
}

#[test]
fn what_the_public_entrypoint_script_did_is_reported() {
    let (_, messages) = run(
        "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: secret\n      PGDATA: /data\n    volumes:\n      - ./init.sql:/docker-entrypoint-initdb.d/init.sql:ro\n      - db-data:/var/lib/postgresql/data\n  web:\n    image: nginx:1.27\n    command: [\"-g\", \"daemon off;\"]\n    environment:\n      - NGINX_ENVSUBST_OUTPUT_DIR=/etc/nginx\n",
    );
    let features: Vec<&String> = messages
        .iter()
        .filter(|m| m.starts_with("entrypoint-feature"))
        .collect();
    assert_eq!(features.len(), 3, "{messages:?}");
    assert!(features[0].contains("`services.db.environment`: `POSTGRES_PASSWORD` is read by the public postgres image's entrypoint script (`docker-entrypoint.sh`)"), "{features:?}");
    assert!(
        features[0].contains("the replacement's entrypoint is `postgres`, not that script"),
        "{features:?}"
    );
    assert!(
        features[1].contains("`services.db.volumes` mounts /docker-entrypoint-initdb.d/"),
        "{features:?}"
    );
    assert!(
        features[2].contains("`NGINX_ENVSUBST_OUTPUT_DIR`"),
        "{features:?}"
    );
    assert!(
        has(
            &messages,
            "missing-fact: `services.web.command` starts with `-g`, which the public image's entrypoint script gave to its default program"
        ),
        "nginx's replacement entrypoint is unknown: {messages:?}"
    );
}

#[test]
fn a_service_already_on_its_replacement_is_left_alone() {
    let text = "services:\n  db:\n    image: reg.example.dev/postgres:16\n";
    let (migrated, messages) = run(text);
    assert_eq!(migrated, text);
    assert!(
        !messages.iter().any(|m| m.starts_with("compose-image")),
        "{messages:?}"
    );
}

#[test]
fn a_whole_command_keeps_running_as_it_is_with_the_entrypoint_cleared() {
    let (text, messages) = run(
        "services:\n  db:\n    image: postgres:16\n    command: postgres -c fsync=off\n  api:\n    image: node:20\n    entrypoint: [node]\n    command: [server.js]\n  web:\n    image: nginx:1.27\n    command: [nginx, -g, daemon off;]\n",
    );
    assert!(
        text.contains("    command: postgres -c fsync=off\n    entrypoint: []\n  api:"),
        "the replacement's entrypoint `postgres` would run `postgres postgres -c …`: {text}"
    );
    assert!(
        text.contains("    entrypoint: [node]\n    command: [server.js]\n  web:"),
        "a service's own entrypoint decides: {text}"
    );
    assert!(
        text.ends_with("    command: [nginx, -g, daemon off;]\n    entrypoint: []\n"),
        "{text}"
    );
    assert!(
        has(
            &messages,
            "entrypoint: `services.db.command` ran through the public image's entrypoint script as it is; `entrypoint: []` keeps it so on reg.example.dev/postgres"
        ),
        "{messages:?}"
    );
    assert!(
        has(
            &messages,
            "missing-fact: the entrypoint of reg.example.dev/nginx is unknown: `entrypoint: []` makes the service run `nginx` whatever it is"
        ),
        "{messages:?}"
    );
    assert!(
        !messages
            .iter()
            .any(|m| m.contains("reg.example.dev/postgres is unknown")),
        "postgres's entrypoint is known: {messages:?}"
    );
}

#[test]
fn a_volume_at_a_path_the_replacement_keeps_elsewhere_moves_with_it() {
    let (text, messages) = run(
        "services:\n  db:\n    image: postgres:16\n    volumes:\n      - db-data:/var/lib/postgresql/data:rw\n      - type: volume\n        source: more\n        target: /var/lib/postgresql/data/extra\n      - ./conf:/etc/postgresql\n  other:\n    image: nginx:1.27\n    volumes:\n      - db-data:/var/lib/postgresql/data\n",
    );
    assert!(
        text.contains("      - db-data:/var/lib/postgresql/pgdata:rw\n"),
        "{text}"
    );
    assert!(
        text.contains("        target: /var/lib/postgresql/pgdata/extra\n"),
        "{text}"
    );
    assert!(text.contains("      - ./conf:/etc/postgresql\n"), "{text}");
    assert!(
        text.ends_with("      - db-data:/var/lib/postgresql/data\n"),
        "another image's container keeps its paths: {text}"
    );
    assert!(
        has(
            &messages,
            "data-path: `services.db.volumes`: `/var/lib/postgresql/data` → `/var/lib/postgresql/pgdata`"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_mapped_image_passed_as_a_build_argument_is_reported() {
    let text = "services:\n  web:\n    image: local\n    build:\n      context: .\n      args:\n        BASE_IMAGE: node:20\n        OTHER: x\n  api:\n    build:\n      context: api\n      args:\n        - BASE=postgres:16\n";
    let (migrated, messages) = run(text);
    assert_eq!(
        migrated, text,
        "neither the built image's name nor an argument changes"
    );
    let reported: Vec<&String> = messages
        .iter()
        .filter(|m| m.starts_with("unresolved-image"))
        .collect();
    assert_eq!(reported.len(), 2, "{messages:?}");
    assert!(
        reported[0].contains(
            "`services.web.build.args.BASE_IMAGE`: `node:20` is passed to the Dockerfile"
        ),
        "{reported:?}"
    );
    assert!(
        reported[1].contains("give the Dockerfile's `ARG BASE` the default `postgres:16`"),
        "{reported:?}"
    );
}

#[test]
fn a_command_written_for_the_replacement_is_left_as_its_author_wrote_it() {
    // Only the public image's script ran a whole command as it is; this one was written for
    // the replacement's entrypoint.
    let text = "services:\n  api:\n    image: reg.example.dev/node:20\n    command: [npm, start]\n";
    let (migrated, messages) = run(text);
    assert_eq!(migrated, text, "{messages:?}");
}

#[test]
fn a_command_of_an_image_without_an_entrypoint_script_is_kept_running_as_it_is() {
    // The public python image has no entrypoint: `python app.py` ran as it is; the
    // replacement's entrypoint is unknown, so it is cleared, as a Dockerfile's CMD would be.
    let (text, messages) =
        run("services:\n  app:\n    image: python:3.12\n    command: python app.py\n");
    assert!(
        text.ends_with("    command: python app.py\n    entrypoint: []\n"),
        "{text}"
    );
    assert!(
        has(
            &messages,
            "missing-fact: the entrypoint of reg.example.dev/python is unknown"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_setting_shared_with_other_services_is_reported_not_changed() {
    let text = "x-app: &app\n  image: node:20\n  command: node app.js\n  user: node\nservices:\n  web: *app\n  worker:\n    <<: *app\n    image: myorg/worker:1\n";
    let (migrated, messages) = run(text);
    assert_eq!(
        migrated,
        "x-app: &app\n  image: reg.example.dev/node:20\n  command: node app.js\n  user: node\nservices:\n  web: *app\n  worker:\n    <<: *app\n    image: myorg/worker:1\n",
        "only the image moves: the block's command and user reach `worker` too"
    );
    assert!(
        has(
            &messages,
            "not-editable: add `entrypoint: []` to the service by hand (the service is an alias"
        ),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m
            .starts_with("not-editable: `services.web.user`: `node` → `1000`")
            && m.contains("written in a block other services share")),
        "{messages:?}"
    );
}

#[test]
fn a_service_that_extends_another_runs_with_the_settings_it_inherits() {
    let (text, _) = run(
        "services:\n  base:\n    image: node:20\n  web:\n    extends: base\n    command: node web.js\n  api:\n    extends:\n      service: base\n    command: [node, api.js]\n",
    );
    assert!(
        text.contains("    command: node web.js\n    entrypoint: []\n"),
        "`web` runs node's replacement, whose entrypoint would run `node node web.js`: {text}"
    );
    assert!(
        text.ends_with("    command: [node, api.js]\n    entrypoint: []\n"),
        "{text}"
    );
}

#[test]
fn a_dev_image_has_a_shell() {
    let text = "services:\n  tools:\n    image: reg.example.dev/node:20-dev\n    command: sh -c 'npm ci && npm test'\n";
    let (migrated, messages) = run(text);
    assert_eq!(migrated, text);
    assert!(!has(&messages, "needs-shell"), "{messages:?}");
}

#[test]
fn a_null_entrypoint_is_the_image_s_and_is_not_duplicated() {
    let text = "services:\n  db:\n    image: postgres:16\n    entrypoint: null\n    command: postgres -c fsync=off\n";
    let (migrated, messages) = run(text);
    assert_eq!(
        migrated,
        "services:\n  db:\n    image: reg.example.dev/postgres:16\n    entrypoint: null\n    command: postgres -c fsync=off\n"
    );
    assert!(
        has(
            &messages,
            "not-editable: add `entrypoint: []` to the service by hand (its `entrypoint` is null"
        ),
        "{messages:?}"
    );
}

#[test]
fn an_entrypoint_that_runs_the_public_script_is_reported() {
    let (_, messages) = run(
        "services:\n  db:\n    image: postgres:16\n    entrypoint: [docker-entrypoint.sh, postgres]\n",
    );
    assert!(
        has(
            &messages,
            "entrypoint-feature: `services.db.entrypoint` runs `docker-entrypoint.sh`, the public image's entrypoint script"
        ),
        "{messages:?}"
    );
}

#[test]
fn variables_merged_into_the_environment_are_read() {
    let (_, messages) = run(
        "x-env: &env\n  POSTGRES_PASSWORD: secret\nservices:\n  db:\n    image: postgres:16\n    environment:\n      <<: *env\n      TZ: UTC\n",
    );
    assert!(
        has(
            &messages,
            "entrypoint-feature: `services.db.environment`: `POSTGRES_PASSWORD`"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_block_that_merges_another_brings_its_image() {
    let (text, _) = run(
        "x-base: &base\n  image: postgres:16\nx-db: &db\n  <<: *base\n  restart: always\nservices:\n  nested:\n    <<: *db\n",
    );
    assert!(
        text.contains("  image: reg.example.dev/postgres:16\n"),
        "{text}"
    );
}

#[test]
fn a_value_aliased_into_several_services_is_not_changed_for_one_of_them() {
    let text = "x-user: &user postgres\nservices:\n  db:\n    image: postgres:16\n    user: *user\n  tool:\n    image: ghcr.io/example/pgtool:1\n    user: *user\n";
    let (migrated, messages) = run(text);
    assert!(
        migrated.starts_with("x-user: &user postgres\n"),
        "{migrated}"
    );
    assert!(
        has(
            &messages,
            "not-editable: `services.db.user`: `postgres` → `70`"
        ),
        "{messages:?}"
    );
}

#[test]
fn a_command_that_repeats_the_replacement_s_program_is_reported() {
    let text = "services:\n  api:\n    image: reg.example.dev/node:20\n    command: node app.js\n";
    let (migrated, messages) = run(text);
    assert_eq!(migrated, text);
    assert!(
        has(
            &messages,
            "entrypoint-feature: `services.api.command` starts with `node`, which the entrypoint of reg.example.dev/node (`/usr/bin/node`) already runs"
        ),
        "{messages:?}"
    );
}

#[test]
fn variables_from_an_env_file_are_reported_as_unread() {
    let (_, messages) = run(
        "services:\n  db:\n    image: postgres:16\n    env_file:\n      - db.env\n  cache:\n    image: memcached:1.6\n    env_file: cache.env\n",
    );
    let reported: Vec<&String> = messages
        .iter()
        .filter(|m| m.starts_with("entrypoint-feature"))
        .collect();
    assert_eq!(reported.len(), 1, "{messages:?}");
    assert!(
        reported[0].starts_with("entrypoint-feature: `services.db.env_file`: the public postgres image's entrypoint script (`docker-entrypoint.sh`) reads variables such as `POSTGRES_PASSWORD`"),
        "{reported:?}"
    );
}
