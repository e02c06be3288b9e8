//! One insta snapshot per `testdata/<case>/` repository: the patch `hardport migrate` prints
//! (stdout), every finding (stderr) and the exit code, run from inside the case directory with
//! the embedded catalog. A case that needs image facts the embedded catalog lacks keeps them in
//! `testdata/<case>/catalog.yaml`, which is then layered over it (`--catalog catalog.yaml`);
//! that file sits beside the charts, where discovery never takes it for a values file.

mod common;

use common::{case_name, cases, code, hardport, migrate_args, stderr, stdout};

#[test]
fn every_case_matches_its_snapshot() {
    for case in cases() {
        let name = case_name(&case);
        let output = hardport(&case, &migrate_args(&case, &["--verbose"]));
        let rendered = format!(
            "exit: {}\n--- stdout (patch)\n{}--- stderr\n{}",
            code(&output),
            stdout(&output),
            stderr(&output)
        );
        insta::assert_snapshot!(name, rendered);
    }
}
