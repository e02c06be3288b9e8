use super::entrypoint_feature::{env_names, mentions};
use super::package_manager::{equivalent, family};
use crate::rules::test_support::run;

/// The messages of `rule`, without the `rule: ` prefix.
fn of(messages: &[String], rule: &str) -> Vec<String> {
    let prefix = format!("{rule}: ");
    messages
        .iter()
        .filter_map(|message| message.strip_prefix(&prefix).map(str::to_owned))
        .collect()
}

/// The messages of the rules in this module (and `missing-fact`), with their rule ids.
fn findings(text: &str) -> Vec<String> {
    let (_, messages) = run(text);
    messages
        .into_iter()
        .filter(|message| {
            [
                "privileged-port: ",
                "package-manager: ",
                "entrypoint-feature: ",
                "onbuild: ",
                "missing-fact: ",
            ]
            .iter()
            .any(|prefix| message.starts_with(prefix))
        })
        .collect()
}

// ----- privileged-port --------------------------------------------------------------------

#[test]
fn a_privileged_port_on_a_non_root_replacement_is_reported_with_the_fix() {
    let (fixed, messages) = run("FROM node:20\nCOPY . /app\nEXPOSE 80\nCMD [\"app.js\"]\n");
    assert_eq!(
        fixed, "FROM reg.example.dev/node:20\nCOPY . /app\nEXPOSE 80\nCMD [\"app.js\"]\n",
        "report only"
    );
    assert_eq!(
        of(&messages, "privileged-port"),
        [
            "stage #0 exposes port 80, but on the replacement it runs as user `1000:1000`, not root, and a non-root process cannot bind ports below 1024 unless the runtime allows it (CAP_NET_BIND_SERVICE or net.ipv4.ip_unprivileged_port_start): make the application listen on a port ≥ 1024 (e.g. 8080), EXPOSE that, and map it in the service / container spec (`docker run -p 80:8080`, or a Kubernetes Service with `port: 80` and `targetPort: 8080`)"
        ]
    );
}

#[test]
fn several_privileged_ports_are_one_finding_per_expose() {
    let messages = findings("FROM node:20\nEXPOSE 80/tcp 443/udp 8080 80-90\n");
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message = &messages[0];
    assert!(
        message
            .starts_with("privileged-port: stage #0 exposes ports 80/tcp, 443/udp and 80-90, but"),
        "{message}"
    );
    assert!(
        message.contains(
            "listen on ports ≥ 1024 (e.g. 8080/tcp, 8443/udp and 8080-8090), EXPOSE those"
        ),
        "{message}"
    );
    assert!(
        message.contains("`docker run -p 80:8080/tcp -p 443:8443/udp -p 80-90:8080-8090`"),
        "{message}"
    );
}

#[test]
fn root_replacements_high_ports_and_variable_ports_are_fine() {
    assert_eq!(
        findings("FROM golang:1.22\nEXPOSE 80\n"),
        Vec::<String>::new()
    );
    assert_eq!(
        findings("FROM node:20\nEXPOSE 8080 1024\n"),
        Vec::<String>::new()
    );
    assert_eq!(
        findings("FROM node:20\nARG PORT=80\nEXPOSE ${PORT} $PORT/tcp\n"),
        Vec::<String>::new()
    );
    assert_eq!(
        findings("FROM node:20\nEXPOSE 0 http\n"),
        Vec::<String>::new()
    );
}

#[test]
fn a_stage_that_runs_as_root_may_expose_a_privileged_port() {
    for user in ["root", "0", "0:0", "root:root"] {
        let text = format!("FROM node:20\nUSER {user}\nEXPOSE 80\n");
        assert_eq!(
            of(&findings(&text), "privileged-port"),
            Vec::<String>::new()
        );
    }
    let messages = of(
        &findings("FROM golang:1.22\nUSER nobody\nEXPOSE 443\n"),
        "privileged-port",
    );
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].contains("it runs as user `nobody`, not root"),
        "{messages:?}"
    );
}

#[test]
fn an_unknown_user_is_a_missing_fact() {
    assert_eq!(
        findings("FROM python:3.12\nEXPOSE 80\n"),
        [
            "missing-fact: stage #0 sets no ENTRYPOINT or CMD, so it runs the image's default: [\"python3\"] on `python:3.12`, and an unknown command on `reg.example.dev/python:3.12`: add `hardened.entrypoint` and `hardened.cmd` to the catalog entry `python` (or supply an OCI image config), or set CMD explicitly",
            "missing-fact: stage #0 exposes port 80, below 1024, but the catalog entry `python` has no `hardened.user`, so hardport cannot tell whether the replacement runs as root and may bind it: add `hardened.user` (the `User` of the replacement's OCI image config) to the catalog entry"
        ]
    );
}

#[test]
fn only_stages_a_container_runs_from_are_checked() {
    let messages = findings(
        "FROM node:20 AS build\nEXPOSE 80\nFROM node:20\nCOPY --from=build /app /app\nEXPOSE 443\n",
    );
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].starts_with("privileged-port: stage #1 exposes port 443"),
        "{messages:?}"
    );
}

#[test]
fn a_child_stage_inherits_its_parents_replacement() {
    let messages = findings("FROM node:20 AS base\nFROM base AS app\nEXPOSE 80\n");
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].starts_with("privileged-port: stage `app` exposes port 80"),
        "{messages:?}"
    );
}

#[test]
fn unmapped_and_scratch_stages_get_nothing() {
    let text = "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\nEXPOSE 80\nONBUILD RUN make\nFROM scratch\nEXPOSE 80\nONBUILD COPY . /\n";
    assert_eq!(findings(text), Vec::<String>::new());
}

#[test]
fn already_migrated_files_still_get_the_final_state_findings() {
    let text = "FROM reg.example.dev/node:20\nEXPOSE 80\n";
    let (fixed, messages) = run(text);
    assert_eq!(fixed, text);
    assert_eq!(of(&messages, "privileged-port").len(), 1, "{messages:?}");
}

#[test]
fn crlf_and_lowercase_keywords() {
    let text = "from node:20\r\nexpose 80\r\nrun apt-get install -y curl\r\n";
    let (fixed, messages) = run(text);
    assert_eq!(
        fixed,
        "from reg.example.dev/node:20-dev\r\nexpose 80\r\nuser root\r\nrun apt-get install -y curl\r\nuser 1000:1000\r\n"
    );
    let ours = findings(text);
    assert_eq!(ours.len(), 2, "{ours:?}");
    assert!(ours[0].starts_with("privileged-port: stage #0 exposes port 80"));
    assert!(
        ours[1].starts_with("package-manager: stage #0 calls `apt-get` (line 3)"),
        "{ours:?}"
    );
    assert!(!messages.is_empty());
}

// ----- package-manager --------------------------------------------------------------------

#[test]
fn another_package_manager_is_named_with_its_equivalents() {
    let messages = findings("FROM postgres:16\nRUN apt-get update && apt-get install -y x\n");
    assert_eq!(
        messages,
        [
            "package-manager: RUN calls `apt-get update`, `apt-get install`, but the replacement's -dev variant (reg.example.dev/postgres) has apk, not `apt-get`: `apt-get update` → `apk update`, `apt-get install` → `apk add --no-cache`; package names can differ between distributions, so check each one"
        ]
    );
}

#[test]
fn every_run_with_another_manager_is_reported_once() {
    let messages = findings(
        "FROM postgres:16\nRUN apt-get update; apt-get install -y x; apt-get install -y y\nRUN yum -y install z && apt purge w\nRUN apk add --no-cache ok\n",
    );
    let package = of(&messages, "package-manager");
    assert_eq!(package.len(), 2, "{messages:?}");
    assert!(
        package[0].starts_with("RUN calls `apt-get update`, `apt-get install`, but"),
        "{package:?}"
    );
    assert!(
        package[1].starts_with(
            "RUN calls `yum install`, `apt purge`, but the replacement's -dev variant (reg.example.dev/postgres) has apk, not `yum` or `apt`: `yum install` → `apk add --no-cache`, `apt purge` → `apk del`;"
        ),
        "{package:?}"
    );
}

#[test]
fn the_same_manager_is_fine() {
    assert_eq!(
        findings("FROM postgres:16\nRUN apk add --no-cache curl && apk del curl\n"),
        Vec::<String>::new()
    );
}

#[test]
fn an_unknown_manager_is_one_finding_per_stage() {
    let messages = findings(
        "FROM node:20 AS build\nRUN apt-get update\nRUN npm ci\nRUN apt-get install -y git && apk add x\nFROM node:20\nRUN apt-get install -y curl\n",
    );
    assert_eq!(
        messages,
        [
            "package-manager: stage `build` calls `apt-get` and `apk` (lines 2 and 4), but the catalog entry `node` does not say which package manager the replacement's -dev variant (reg.example.dev/node) has, so these commands may fail there: check the image and add `hardened.package_manager` (apk, apt, dnf, …) to the catalog entry",
            "package-manager: stage #1 calls `apt-get` (line 6), but the catalog entry `node` does not say which package manager the replacement's -dev variant (reg.example.dev/node) has, so these commands may fail there: check the image and add `hardened.package_manager` (apk, apt, dnf, …) to the catalog entry",
        ]
    );
}

#[test]
fn words_that_only_look_like_a_package_manager_are_ignored() {
    for run_line in [
        "RUN myapt-get install x",
        "RUN echo \"apt-get install x\"",
        "RUN echo 'apt-get' apt-get",
        "RUN ./apt-get.sh",
        "RUN echo hi # apt-get install x",
        "RUN \"apt-get\" install x",
        "RUN npm run apt-get",
        "RUN command -v apt-get",
        "RUN <<EOF python3\nimport os; os.system('apt-get install x')\nEOF",
        "RUN <<EOF\n#!/usr/bin/env python3\napt-get = 1\nEOF",
        "RUN <<EOF cat > /etc/motd\napt-get install x\nEOF",
    ] {
        let text = format!("FROM postgres:16\n{run_line}\n");
        assert_eq!(findings(&text), Vec::<String>::new(), "{run_line}");
    }
}

#[test]
fn commands_are_found_after_separators_prefixes_and_continuations() {
    for run_line in [
        "RUN apt-get install -y x",
        "RUN set -e; apt-get install -y x",
        "RUN true && apt-get install -y x",
        "RUN false || apt-get install -y x",
        "RUN echo y | apt-get install x",
        "RUN sudo -E -u root apt-get install -y x",
        "RUN DEBIAN_FRONTEND=noninteractive apt-get install -y x",
        "RUN env DEBIAN_FRONTEND=noninteractive /usr/bin/apt-get -o Dpkg::Options::=x install y",
        "RUN if true; then apt-get install -y x; fi",
        "RUN (cd /tmp && apt-get install -y x)",
        "RUN true \\\n  # a comment with a quote: don't\n  && apt-get install -y x",
        "RUN true \\\r\n  && apt-get install -y x",
        "RUN --mount=type=cache,target=/var/cache/apt apt-get install -y x",
        "RUN [\"apt-get\", \"install\", \"-y\", \"x\"]",
        "RUN [\"/bin/sh\", \"-ec\", \"apt-get install -y x\"]",
        "RUN <<EOF\napt-get install -y x\nEOF",
        "RUN <<-EOF bash -e\n\tapt-get install -y x\nEOF",
        "RUN <<EOF\n#!/bin/bash\nset -e\napt-get install -y \\\n  x\nEOF",
    ] {
        let text = format!("FROM postgres:16\n{run_line}\n");
        let messages = of(&findings(&text), "package-manager");
        assert_eq!(messages.len(), 1, "{run_line}: {messages:?}");
        assert!(
            messages[0].starts_with("RUN calls `apt-get install`, but"),
            "{run_line}: {messages:?}"
        );
    }
}

#[test]
fn onbuild_runs_are_left_to_the_onbuild_rule() {
    let messages = findings("FROM postgres:16\nONBUILD RUN apt-get install -y x\n");
    assert_eq!(of(&messages, "package-manager"), Vec::<String>::new());
    assert_eq!(of(&messages, "onbuild").len(), 1, "{messages:?}");
}

#[test]
fn equivalents_per_manager_family() {
    assert_eq!(
        equivalent("apt", "apk", "add").as_deref(),
        Some("`apt-get install -y --no-install-recommends`")
    );
    assert_eq!(
        equivalent("dnf", "apt-get", "update").as_deref(),
        Some("`dnf makecache`")
    );
    assert_eq!(
        equivalent("apk", "yum", "update").as_deref(),
        Some("`apk upgrade --no-cache`")
    );
    assert_eq!(
        equivalent("zypper", "apk", "del").as_deref(),
        Some("`zypper --non-interactive remove`")
    );
    assert_eq!(equivalent("apk", "apt-get", "source"), None);
    assert_eq!(equivalent("pacman", "apt-get", "install"), None);
}

#[test]
fn a_manager_without_a_known_equivalent_is_named_generically() {
    let messages = findings("FROM postgres:16\nRUN apt-get source x && dnf\n");
    assert_eq!(
        of(&messages, "package-manager"),
        [
            "RUN calls `apt-get source`, `dnf`, but the replacement's -dev variant (reg.example.dev/postgres) has apk, not `apt-get` or `dnf`: `apt-get source` → its apk equivalent, `dnf` → its apk equivalent; package names can differ between distributions, so check each one"
        ]
    );
}

// ----- entrypoint-feature -----------------------------------------------------------------

#[test]
fn init_scripts_for_the_public_entrypoint_are_reported() {
    let messages = findings("FROM postgres:16\nCOPY init.sql /docker-entrypoint-initdb.d/\n");
    assert_eq!(
        messages,
        [
            "entrypoint-feature: this COPY puts files in /docker-entrypoint-initdb.d/: the public postgres image's entrypoint script (`docker-entrypoint.sh`) runs the *.sh, *.sql and *.sql.gz files there once, when it initialises an empty data directory; the replacement's entrypoint is `postgres`, not that script, so that will not happen: run that initialisation from the application (e.g. its migrations), an init container or a Kubernetes Job"
        ]
    );
}

#[test]
fn relative_destinations_volumes_and_runs_count_too() {
    let messages = findings(
        "FROM postgres:16\nWORKDIR /docker-entrypoint-initdb.d\nCOPY 01.sql ./\nADD https://example.com/x.sql.gz /docker-entrypoint-initdb.d\nVOLUME [\"/docker-entrypoint-initdb.d\"]\nRUN chmod +x /docker-entrypoint-initdb.d/*.sh\n",
    );
    let features = of(&messages, "entrypoint-feature");
    let starts: Vec<&str> = features
        .iter()
        .map(|m| m.split(':').next().unwrap_or_default())
        .collect();
    assert_eq!(
        starts,
        [
            "this COPY puts files in /docker-entrypoint-initdb.d/",
            "this ADD puts files in /docker-entrypoint-initdb.d/",
            "this VOLUME mounts /docker-entrypoint-initdb.d/",
            "this RUN works on /docker-entrypoint-initdb.d/",
        ],
        "{messages:?}"
    );
}

#[test]
fn similar_paths_and_other_images_are_not_features() {
    for text in [
        "FROM postgres:16\nCOPY x /srv/docker-entrypoint-initdb.d/\n",
        "FROM postgres:16\nCOPY x /docker-entrypoint-initdb.dx/\n",
        "FROM postgres:16\nCOPY x ${ROOT}/docker-entrypoint-initdb.d/\n",
        "FROM node:20\nCOPY init.sql /docker-entrypoint-initdb.d/\n",
        "FROM node:20\nENV POSTGRES_PASSWORD=x\n",
        "FROM postgres:16\nENV PGDATA=/data MY_POSTGRES_PASSWORD=x\n",
        "FROM postgres:16\nCOPY x /docker-entrypoint.d/\n",
    ] {
        assert_eq!(
            of(&findings(text), "entrypoint-feature"),
            Vec::<String>::new(),
            "{text}"
        );
    }
}

#[test]
fn variables_the_public_script_reads_are_reported_once_per_env() {
    let messages = findings(
        "FROM postgres:16\nENV POSTGRES_PASSWORD=secret POSTGRES_DB=app\nENV POSTGRES_USER app\nENV POSTGRES_PASSWORD_FILE=/run/secrets/pg APP=1\n",
    );
    let features = of(&messages, "entrypoint-feature");
    assert_eq!(features.len(), 3, "{messages:?}");
    assert_eq!(
        features[0],
        "`POSTGRES_PASSWORD` and `POSTGRES_DB` are read by the public postgres image's entrypoint script (`docker-entrypoint.sh`) to create the superuser and database when it initialises an empty data directory; the replacement's entrypoint is `postgres`, not that script, so the replacement may not honour them unless its documentation says it does: check that, or run that initialisation from the application (e.g. its migrations), an init container or a Kubernetes Job"
    );
    assert!(
        features[1].starts_with("`POSTGRES_USER` is read by"),
        "{features:?}"
    );
    assert!(
        features[2].starts_with("`POSTGRES_PASSWORD_FILE` is read by")
            && features[2].contains("may not honour it unless"),
        "{features:?}"
    );
}

#[test]
fn nginx_entrypoint_directories_and_variables() {
    let messages = findings(
        "FROM nginx:1.27\nCOPY 40-setup.sh /docker-entrypoint.d/\nCOPY default.conf.template /etc/nginx/templates/\nENV NGINX_ENVSUBST_FILTER=^APP_\n",
    );
    assert_eq!(
        of(&messages, "entrypoint-feature"),
        [
            "this COPY puts files in /docker-entrypoint.d/: the public nginx image's entrypoint script (`/docker-entrypoint.sh`) runs the executable *.sh scripts there at every start, before nginx; the replacement is not known to run that script (the catalog entry `nginx` has no `hardened.entrypoint`), and it has no shell, so that will not happen: do that work at build time (in a -dev build stage whose result you COPY) or in an init container",
            "this COPY puts files in /etc/nginx/templates/: the public nginx image's entrypoint script (`/docker-entrypoint.sh`) renders the *.template files there into /etc/nginx/conf.d with envsubst at every start; the replacement is not known to run that script (the catalog entry `nginx` has no `hardened.entrypoint`), and it has no shell, so that will not happen: render the configuration at build time and COPY the finished file into /etc/nginx/conf.d",
            "`NGINX_ENVSUBST_FILTER` is read by the public nginx image's entrypoint script (`/docker-entrypoint.sh`) to render /etc/nginx/templates and tune the configuration at every start; the replacement is not known to run that script (the catalog entry `nginx` has no `hardened.entrypoint`), and it has no shell, so the replacement may not honour it unless its documentation says it does: check that, or do that work at build time (in a -dev build stage whose result you COPY) or in an init container",
        ]
    );
}

#[test]
fn entrypoint_features_compare_public_and_hardened_only_while_migrating() {
    let text = "FROM reg.example.dev/postgres:16\nCOPY init.sql /docker-entrypoint-initdb.d/\nENV POSTGRES_DB=app\n";
    assert_eq!(findings(text), Vec::<String>::new());
}

#[test]
fn a_stage_built_on_a_migrating_stage_is_checked_too() {
    let messages = findings(
        "FROM postgres:16 AS db\nFROM db\nCOPY schema.sql /docker-entrypoint-initdb.d/10-schema.sql\n",
    );
    assert_eq!(of(&messages, "entrypoint-feature").len(), 1, "{messages:?}");
}

#[test]
fn path_mentions_respect_path_boundaries() {
    assert!(mentions("/docker-entrypoint.d", "/docker-entrypoint.d"));
    assert!(mentions(
        "cp a /docker-entrypoint.d/b",
        "/docker-entrypoint.d"
    ));
    assert!(mentions(
        "x=\"/docker-entrypoint.d\"",
        "/docker-entrypoint.d"
    ));
    assert!(!mentions("/a/docker-entrypoint.d", "/docker-entrypoint.d"));
    assert!(!mentions("/docker-entrypoint.dir", "/docker-entrypoint.d"));
    assert!(!mentions("/docker-entrypoint.sh", "/docker-entrypoint.d"));
    assert!(mentions(
        "/docker-entrypoint.sh /docker-entrypoint.d",
        "/docker-entrypoint.d"
    ));
}

#[test]
fn env_names_read_both_forms() {
    assert_eq!(env_names("A=1 B=\"x y\" C="), ["A", "B", "C"]);
    assert_eq!(env_names("A 1 2"), ["A"]);
    assert_eq!(env_names("A=1 \\\n    B=2"), ["A", "B"]);
    assert_eq!(env_names(""), Vec::<String>::new());
}

// ----- onbuild ----------------------------------------------------------------------------

#[test]
fn onbuild_triggers_are_reported() {
    let messages = findings("FROM node:20\nONBUILD RUN npm ci\nONBUILD COPY . /app\n");
    assert_eq!(
        messages,
        [
            "onbuild: ONBUILD RUN in stage #0 runs later, in every image built FROM this one, which now starts from reg.example.dev/node: a RUN trigger needs a shell, and this stage ships reg.example.dev/node's production image, which has none, so those builds fail: build them FROM the -dev variant or move the step into their Dockerfiles",
            "onbuild: ONBUILD COPY in stage #0 runs later, in every image built FROM this one, which now starts from reg.example.dev/node: check that it still works on reg.example.dev/node (its user, working directory and paths may differ from the public image's)",
        ]
    );
}

#[test]
fn an_onbuild_run_on_a_dev_stage_is_checked_there() {
    let messages = findings("from node:20\nrun npm ci\nonbuild run npm test\n");
    assert_eq!(
        of(&messages, "onbuild"),
        [
            "ONBUILD RUN in stage #0 runs later, in every image built FROM this one, which now starts from reg.example.dev/node: check that the command works on reg.example.dev/node's -dev variant (its package manager and user differ from the public image's)"
        ]
    );
}

#[test]
fn a_second_run_reports_the_same_final_state_and_changes_nothing() {
    let text = "FROM postgres:16\nRUN apt-get install -y x\nEXPOSE 80\nONBUILD COPY . /\n";
    let (once, first) = run(text);
    let (twice, second) = run(&once);
    assert_eq!(once, twice);
    for rule in ["privileged-port", "package-manager", "onbuild"] {
        assert_eq!(of(&first, rule), of(&second, rule), "{rule}");
        assert_eq!(of(&first, rule).len(), 1, "{rule}: {first:?}");
    }
}

#[test]
fn arg_driven_from_is_followed() {
    let messages = findings(
        "ARG BASE=postgres:16\nFROM ${BASE}\nCOPY init.sql /docker-entrypoint-initdb.d/\nRUN apt-get install -y x\n",
    );
    assert_eq!(of(&messages, "entrypoint-feature").len(), 1, "{messages:?}");
    assert_eq!(of(&messages, "package-manager").len(), 1, "{messages:?}");
}

#[test]
fn manager_families_normalise_the_catalog_value() {
    assert_eq!(family("apt-get"), family(" APT "));
    assert_ne!(family("yum"), family("dnf"));
    assert_eq!(family("apk"), "apk");
}
