//! `canopy pub --profile P --template NAME`: publishes a template saved in a profile (the
//! window's publish panel saves them), `count` times, `interval` apart, variables filled in
//! per message.

use std::time::{Duration, Instant};

use super::pub_cmd::{PubArgs, Publisher};
use super::{complain, connect, exit};
use crate::model::message::OutgoingMessage;
use crate::model::template::Sequence;

/// Messages published at most ahead of their outcomes (as `pub -l`).
const WINDOW: usize = 1000;

pub(super) fn run(args: &PubArgs, name: &str) -> u8 {
    let mut profile = match args.connection.profile_or_exit() {
        Ok(p) => p,
        Err(code) => return code,
    };
    let Some(template) = profile.templates.iter().find(|t| t.name == name).cloned() else {
        let names: Vec<&str> = profile.templates.iter().map(|t| t.name.as_str()).collect();
        complain(if names.is_empty() {
            format!(
                "profile “{}” has no templates (save one from the window's publish panel)",
                profile.name
            )
        } else {
            format!(
                "profile “{}” has no template “{name}”; it has: {}",
                profile.name,
                names.join(", ")
            )
        });
        return exit::USAGE;
    };
    let count = args.count.unwrap_or(template.count).max(1);
    let interval = match args.interval {
        Some(s) if s.is_finite() && s >= 0.0 => Duration::from_secs_f64(s),
        Some(s) => {
            complain(format!("--interval {s}: give seconds, 0 or more"));
            return exit::USAGE;
        }
        None => Duration::from_millis(template.interval_ms),
    };
    // Every message is rendered before connecting: a mistake in the template is found without
    // a connection, and nothing half-sent.
    let mut seq = Sequence::default();
    if let Err(e) = template.render(&mut seq.clone()) {
        complain(format!("template “{name}”: {e}"));
        return exit::USAGE;
    }
    profile.subscriptions.clear();
    let session = match connect(profile, args.connection.retry) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let blank = OutgoingMessage {
        topic: String::new(),
        payload: Default::default(),
        qos: template.qos,
        retain: template.retain,
        properties: Default::default(),
    };
    let mut publisher = Publisher::new(session, blank);
    let mut bad_template = None;
    let start = Instant::now();
    for n in 0..count {
        // Paced from the start, so a slow acknowledgement does not stretch the schedule.
        let due = start + interval * n;
        while Instant::now() < due && !publisher.lost() {
            publisher.poll();
            std::thread::sleep((due - Instant::now()).min(Duration::from_millis(50)));
        }
        if publisher.lost() {
            break;
        }
        match template.render(&mut seq) {
            Ok(message) => publisher.send_message(message),
            // A variable can still fail later (none does today); stop rather than skip.
            Err(e) => {
                complain(format!("template “{name}”, message {}: {e}", n + 1));
                bad_template = Some(exit::USAGE);
                break;
            }
        }
        publisher.wait_until(WINDOW);
    }
    publisher.finish(bad_template)
}
