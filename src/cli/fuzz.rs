//! Fuzz-style test: no argument vector may panic the parser or the checks made before
//! connecting (`-W inf` did: `Duration::from_secs_f64` panicked with exit code 101).

use std::panic::{AssertUnwindSafe, catch_unwind};

use clap::Parser as _;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

use super::{Cli, CliCommand, checks};

/// Numbers and strings that broke or could break parsers.
const NASTY: &[&str] = &[
    "inf",
    "-inf",
    "+inf",
    "infinity",
    "NaN",
    "nan",
    "-0",
    "0",
    "-1",
    "1e300",
    "-1e300",
    "1e-300",
    "1e309",
    "18446744073709551616",
    "18446744073709551615",
    "4294967296",
    "65536",
    "-9223372036854775808",
    "0x10",
    "1_000",
    "",
    " ",
    "=",
    "a/#/b",
    "#",
    "+",
    "a\u{1}b",
    "\u{2028}",
    "10x",
    "max",
    "0.5",
    "5",
    "3.1.1",
    "mqtt://u:p@h:1",
    "mqtts://[::1]",
    "ws://h/p",
    "//",
    "-",
    "--",
    "é",
    "🌳",
];

/// Flags of every subcommand, with or without a value after them.
const FLAGS: &[&str] = &[
    "-W",
    "--timeout",
    "-D",
    "--duration",
    "--quiet",
    "-s",
    "--speed",
    "-C",
    "--count",
    "-q",
    "-k",
    "-p",
    "-V",
    "-t",
    "-m",
    "-i",
    "-u",
    "-P",
    "-L",
    "--url",
    "--messages",
    "--seconds",
    "--max-payload",
    "--transport",
    "--ws-path",
    "--session-expiry",
    "--message-expiry",
    "--user-property",
    "--will-topic",
    "--will-qos",
    "--will-payload",
    "--reconnect-attempts",
    "--server-name",
    "--alpn",
    "--rate",
    "--size",
    "--topics",
    "--expect",
    "--history-budget",
    "--prefix",
    "-F",
    "-h",
    "-r",
    "-n",
    "-l",
    "-v",
    "--insecure",
    "--dry-run",
    "--no-retain",
    "-c",
    "--retry",
    "--json",
    "--quick",
];

const COMMANDS: &[&[&str]] = &[
    &["pub"],
    &["sub"],
    &["record"],
    &["replay"],
    &["clear-retained"],
    &["demo"],
    &["bench", "load"],
    &["bench", "publish"],
    &["probe"],
];

fn random_value(rng: &mut StdRng) -> String {
    match rng.random_range(0..4) {
        0 => NASTY[rng.random_range(0..NASTY.len())].to_owned(),
        1 => rng.random::<f64>().to_string(),
        2 => format!("{:e}", f64::from_bits(rng.random::<u64>())),
        _ => (0..rng.random_range(0..12))
            .map(|_| char::from_u32(rng.random_range(1..0x3000)).unwrap_or('x'))
            .collect(),
    }
}

/// What runs after parsing and before connecting, as the commands run it.
fn checks_after_parsing(command: CliCommand) {
    let connection = match &command {
        CliCommand::Pub(a) => &a.connection,
        CliCommand::Sub(a) => &a.connection,
        CliCommand::Record(a) => &a.connection,
        CliCommand::Replay(a) => &a.connection,
        CliCommand::ClearRetained(a) => &a.connection,
        CliCommand::Demo(a) => &a.connection,
        CliCommand::Probe(a) => &a.connection,
        CliCommand::Bench(b) => match &b.command {
            super::bench_cmd::BenchCommand::Load(a) => &a.connection,
            super::bench_cmd::BenchCommand::Publish(a) => &a.connection,
        },
    };
    if let Ok(profile) = connection.profile() {
        let _ = checks::check_profile(&profile);
        let _ = checks::warnings(&profile);
        if let CliCommand::Pub(a) = &command
            && let Some(topic) = &a.topic
        {
            let _ = crate::model::topic::validate_topic_name(topic);
            let _ = checks::max_payload(topic, &Default::default(), true);
        }
    }
    if let CliCommand::Probe(a) = &command {
        let _ = a.options();
    }
    if let CliCommand::Replay(a) = &command {
        let now = std::time::SystemTime::now();
        let _ = a.speed.due(std::time::UNIX_EPOCH, now);
    }
}

#[test]
fn no_argument_vector_panics() {
    let mut rng = StdRng::seed_from_u64(0x00c0_ffee);
    for round in 0..4000 {
        let mut argv: Vec<String> = vec!["canopy".into()];
        argv.extend(COMMANDS[round % COMMANDS.len()].iter().map(|s| (*s).to_owned()));
        // Keep the random profile away from the user's real profiles file.
        argv.extend(["--profiles-file".into(), "/nonexistent/profiles.toml".into()]);
        for _ in 0..rng.random_range(0..8) {
            argv.push(FLAGS[rng.random_range(0..FLAGS.len())].to_owned());
            if rng.random_bool(0.85) {
                argv.push(random_value(&mut rng));
            }
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            if let Ok(Cli {
                command: Some(command),
            }) = Cli::try_parse_from(&argv)
            {
                checks_after_parsing(command);
            }
        }));
        assert!(outcome.is_ok(), "panicked on {argv:?}");
    }
}

#[test]
fn infinite_and_huge_seconds_are_usage_errors() {
    for value in ["inf", "1e300", "NaN", "-1"] {
        for argv in [
            vec!["canopy", "sub", "-t", "a", "-W", value],
            vec!["canopy", "record", "-o", "f", "-D", value],
            vec!["canopy", "clear-retained", "-t", "a", "--quiet", value],
            vec!["canopy", "bench", "load", "-n", "1", "-W", value],
            vec!["canopy", "bench", "publish", "-D", value],
        ] {
            let err = Cli::try_parse_from(&argv).expect_err("refused");
            assert_eq!(err.exit_code(), 2, "{argv:?}");
        }
    }
}
