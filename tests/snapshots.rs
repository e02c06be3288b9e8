//! One insta snapshot per `testdata/<case>/` repository: the patch `hardport migrate` prints
//! (stdout), every finding (stderr) and the exit code, run from inside the case directory with
//! the embedded catalog.

mod common;

use common::{cases, code, hardport, stderr, stdout};

#[test]
fn every_case_matches_its_snapshot() {
    for case in cases() {
        let name = case
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let output = hardport(&case, &["migrate"]);
        let rendered = format!(
            "exit: {}\n--- stdout (patch)\n{}--- stderr\n{}",
            code(&output),
            stdout(&output),
            stderr(&output)
        );
        insta::assert_snapshot!(name, rendered);
    }
}
