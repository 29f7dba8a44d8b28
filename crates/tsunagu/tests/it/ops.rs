//! The binary as an operator runs it.

/// Logs sent to a pipe or a file are plain text: no terminal colour codes.
#[test]
fn logs_to_a_pipe_have_no_colour_codes() {
    let dir = std::env::temp_dir().join(format!("tsunagu-ops-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db = format!("sqlite://{}/ops.sqlite3", dir.display());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(["demo-load", "--db", &db, "--families", "2"])
        .env("TSUNAGU_LOG", "info")
        .env_remove("TSUNAGU_KEY")
        // The key and checkpoint files it makes by default go beside the database, not into the source tree.
        .current_dir(&dir)
        .output()
        .expect("run tsunagu");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("demo data ready"), "the log line is there: {log}");
    assert!(!log.contains('\u{1b}'), "no escape sequences in piped logs: {log:?}");
}
