//! How fast and how big: the largest payload that makes the round trip, latency per QoS and a
//! throughput burst per QoS, all through the probe's own subscriptions.

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;

use super::driver::Missed;
use super::report::{Check, Latency, Report, Throughput};
use super::{Ctx, PAYLOAD_ID, PERF_ID, ProbeStep, skipped};
use crate::engine::PublishOutcome;
use crate::model::message::{OutgoingMessage, Properties, QoS};

/// Bytes of a PUBLISH besides the payload and topic: fixed header (≤ 5), topic length (2),
/// packet id (2), MQTT 5 properties length (1), with room to spare.
const PUBLISH_OVERHEAD: usize = 16;

/// Latency messages are sent at this pace, so the figure is a round trip at a light load and
/// not a queue the probe built itself.
const LATENCY_GAP: Duration = Duration::from_millis(5);
/// Latency messages in flight at most (a slow link gets fewer per second, not a queue).
const LATENCY_WINDOW: u32 = 20;

/// Burst messages published and not yet back, at most: a broker's queue for one client is
/// bounded too (mosquitto drops past 1,000 queued), and a loss should be the broker's, not an
/// overrun the probe caused.
const BURST_WINDOW: u64 = 500;
/// Payload of a burst message.
const BURST_PAYLOAD: &[u8] = b"canopy probe throughput message, 64 bytes of payload...........";

fn outgoing(topic: &str, payload: Bytes, qos: QoS) -> OutgoingMessage {
    OutgoingMessage {
        topic: topic.to_owned(),
        payload,
        qos,
        retain: false,
        properties: Properties::default(),
    }
}

/// How a trial the broker answered by closing the connection begins.
const CLOSED: &str = "the broker closed the connection";

/// The answer of one payload size.
enum Trial {
    Delivered,
    /// Refused, closed, or acknowledged and never delivered: why.
    TooLarge(String),
    /// Out of time before an answer.
    Unknown(String),
}

/// Bisects the largest payload that makes the round trip, on a connection of its own: a
/// broker may answer a payload over its limit by closing the connection.
pub(super) fn max_payload(ctx: &mut Ctx) -> Check {
    if ctx.out_of_time() {
        return skipped();
    }
    // The topic grows by a digit or two over the search (see `payload_topic`).
    let overhead = payload_topic(ctx).len() + 4 + PUBLISH_OVERHEAD;
    let announced = ctx
        .capabilities
        .as_ref()
        .and_then(|c| c.maximum_packet_size)
        .map(|max| (max as usize).saturating_sub(overhead));
    let (cap, why_cap) = match announced {
        Some(fit) if fit < ctx.options.max_payload => (fit, "what the announced maximum packet size leaves"),
        _ => (ctx.options.max_payload, "the largest tried"),
    };
    let first = trial(ctx, cap);
    let check = match first {
        Trial::Delivered => Check::yes(format!(
            "{} round-tripped ({why_cap})",
            crate::model::units::bytes(cap as u64)
        )),
        Trial::Unknown(why) => Check::unknown(format!(
            "{} was not answered: {why}",
            crate::model::units::bytes(cap as u64)
        )),
        Trial::TooLarge(first_why) => {
            let (mut ok, mut too_large, mut why) = (0usize, cap, first_why);
            let mut cut_short = None;
            for _ in 1..ctx.options.payload_steps.max(2) {
                let mid = ok + (too_large - ok) / 2;
                if mid == ok {
                    break;
                }
                // A close may be a broker's hiccup after the previous refusal rather than its
                // answer to this size: a close is believed only when a fresh connection gets
                // the same.
                let mut answer = trial(ctx, mid);
                if matches!(&answer, Trial::TooLarge(w) if w.starts_with(CLOSED)) {
                    answer = trial(ctx, mid);
                }
                match answer {
                    Trial::Delivered => ok = mid,
                    Trial::TooLarge(w) => (too_large, why) = (mid, w),
                    Trial::Unknown(w) => {
                        cut_short = Some(w);
                        break;
                    }
                }
            }
            let mut detail = format!(
                "{} round-tripped; {} did not ({why})",
                crate::model::units::bytes(ok as u64),
                crate::model::units::bytes(too_large as u64)
            );
            if let Some(w) = cut_short {
                detail.push_str(&format!("; search cut short: {w}"));
            }
            Check::yes(detail).with_value(ok as u64)
        }
    };
    ctx.driver.disconnect(PAYLOAD_ID);
    match first_value(&check, cap) {
        Some(v) => check.with_value(v),
        None => check,
    }
}

/// The value of a check whose first trial answered: the cap when it was delivered.
fn first_value(check: &Check, cap: usize) -> Option<u64> {
    (check.value.is_none() && check.support == super::Support::Supported).then_some(cap as u64)
}

/// The topic of the current payload connection (a new one with every connection, so no
/// late copy from an earlier connection is taken for this one's).
fn payload_topic(ctx: &Ctx) -> String {
    ctx.topic(&format!("payload/{}", ctx.payload_connects))
}

/// Publishes `size` bytes at QoS 1 and waits for them to come back.
fn trial(ctx: &mut Ctx, size: usize) -> Trial {
    let wait = ctx.options.wait;
    if !ctx.driver.is_connected(PAYLOAD_ID) {
        // A new client id each time: a broker may still be tearing down the connection it
        // just closed, and taking its id over could cost this one too.
        ctx.payload_connects += 1;
        let profile = ctx.profile(ctx.version, &format!("size{}", ctx.payload_connects));
        let topic = payload_topic(ctx);
        if let Err(e) = ctx.driver.connect(PAYLOAD_ID, profile, ctx.until(wait)) {
            return Trial::Unknown(format!("reconnecting: {e}"));
        }
        match ctx
            .driver
            .subscribe(PAYLOAD_ID, &topic, QoS::AtLeastOnce, None, ctx.until(wait))
        {
            Ok(Ok(_)) => {}
            Ok(Err(refused)) => return Trial::Unknown(format!("subscribing was refused: {refused}")),
            Err(missed) => return Trial::Unknown(format!("subscribing: {missed}")),
        }
    }
    let topic = payload_topic(ctx);
    let topic = topic.as_str();
    // Time for the bytes both ways at a modest 4 MB/s, on top of the usual wait.
    let transfer = Duration::from_secs_f64(size as f64 * 2.0 / 4e6);
    let until = ctx.until(wait + transfer);
    let payload = Bytes::from(vec![b'p'; size]);
    let token = ctx
        .driver
        .publish(PAYLOAD_ID, outgoing(topic, payload, QoS::AtLeastOnce));
    match ctx.driver.outcome(PAYLOAD_ID, token, until) {
        Ok(PublishOutcome::Failed(why)) if !ctx.driver.is_connected(PAYLOAD_ID) => {
            return Trial::TooLarge(format!("{CLOSED}: {why}"));
        }
        Ok(PublishOutcome::Failed(why)) => return Trial::TooLarge(format!("refused: {why}")),
        Ok(_) => {}
        Err(Missed::Lost(why)) => return Trial::TooLarge(format!("{CLOSED}: {why}")),
        Err(Missed::TimedOut) => return Trial::Unknown("not acknowledged in time".into()),
    }
    match ctx
        .driver
        .message(PAYLOAD_ID, until, |m| m.topic == topic && m.payload.len() == size)
    {
        Ok(_) => Trial::Delivered,
        Err(Missed::Lost(why)) => Trial::TooLarge(format!("{CLOSED}: {why}")),
        Err(Missed::TimedOut) => Trial::TooLarge("acknowledged but never delivered".into()),
    }
}

/// Latency at QoS 0, 1 and 2, then a burst at QoS 0 and 1, on a connection of their own.
pub(super) fn latency_and_throughput(
    ctx: &mut Ctx,
    report: &mut Report,
    progress: &mut impl FnMut(ProbeStep),
) {
    if ctx.out_of_time() {
        return;
    }
    let profile = ctx.profile(ctx.perf_version, "perf");
    if ctx
        .driver
        .connect(PERF_ID, profile, ctx.until(ctx.options.wait))
        .is_err()
    {
        return;
    }
    for qos in QoS::ALL {
        if ctx.out_of_time() {
            return;
        }
        progress(ProbeStep::Latency(qos));
        if let Some(row) = latency(ctx, qos) {
            report.latency.push(row);
        }
    }
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce] {
        if ctx.out_of_time() {
            return;
        }
        progress(ProbeStep::Throughput(qos));
        if let Some(row) = throughput(ctx, qos) {
            report.throughput.push(row);
        }
    }
    ctx.driver.disconnect(PERF_ID);
}

/// Subscribes the speed connection to `topic` at `qos`; false if that failed.
fn subscribe_perf(ctx: &mut Ctx, topic: &str, qos: QoS) -> bool {
    let until = ctx.until(ctx.options.wait);
    matches!(ctx.driver.subscribe(PERF_ID, topic, qos, None, until), Ok(Ok(_)))
}

/// The value at quantile `q` (0–1) of sorted values, nearest rank.
pub(crate) fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Publishes `messages` numbered messages at a steady pace and times each one back. The time
/// of arrival is the engine's (when the packet was read), so the engine's batching of
/// messages for the consumer does not count.
fn latency(ctx: &mut Ctx, qos: QoS) -> Option<Latency> {
    let topic = ctx.topic(&format!("latency/{qos}"));
    if !subscribe_perf(ctx, &topic, qos) {
        return None;
    }
    let n = ctx.options.messages.max(1);
    let mut sent_at: Vec<Option<SystemTime>> = vec![None; n as usize];
    let mut rtts: Vec<f64> = Vec::with_capacity(n as usize);
    let (mut sent, mut received) = (0u32, 0u32);
    let mut next_send = Instant::now();
    // Set when sending stops (all sent, or the time limit): the last wait for stragglers.
    let mut give_up: Option<Instant> = None;
    loop {
        let now = Instant::now();
        let sending = sent < n && now < ctx.deadline;
        if !sending && give_up.is_none() {
            give_up = Some(now + ctx.options.wait);
        }
        if sending && now >= next_send && sent - received < LATENCY_WINDOW {
            sent_at[sent as usize] = Some(SystemTime::now());
            let payload = Bytes::from(sent.to_string());
            ctx.driver
                .publish_untracked(PERF_ID, outgoing(&topic, payload, qos));
            sent += 1;
            next_send = now + LATENCY_GAP;
            continue;
        }
        if !sending && received == sent {
            break;
        }
        let wake = match give_up {
            Some(at) if now >= at => break,
            Some(at) => at,
            None => next_send,
        };
        ctx.driver.pump(wake.max(now + Duration::from_micros(200)));
        if !ctx.driver.is_connected(PERF_ID) {
            break;
        }
        for m in ctx.driver.drain_messages(PERF_ID) {
            if m.topic != topic {
                continue;
            }
            let seq = std::str::from_utf8(&m.payload)
                .ok()
                .and_then(|s| s.parse::<usize>().ok());
            if let Some(at) = seq.and_then(|s| sent_at.get_mut(s)).and_then(Option::take) {
                let rtt = m.received.duration_since(at).unwrap_or_default();
                rtts.push(rtt.as_secs_f64() * 1000.0);
                received += 1;
            }
        }
    }
    rtts.sort_by(f64::total_cmp);
    Some(Latency {
        qos,
        sent,
        received,
        p50_ms: percentile(&rtts, 0.50),
        p99_ms: percentile(&rtts, 0.99),
        max_ms: rtts.last().copied().unwrap_or(0.0),
    })
}

/// Publishes as fast as the broker takes it for the burst time, with at most
/// [`BURST_WINDOW`] outstanding, then waits a grace period for the stragglers.
fn throughput(ctx: &mut Ctx, qos: QoS) -> Option<Throughput> {
    let topic = ctx.topic(&format!("burst/{qos}"));
    if !subscribe_perf(ctx, &topic, qos) {
        return None;
    }
    let payload = Bytes::from_static(BURST_PAYLOAD);
    let start = Instant::now();
    let stop = ctx.until(ctx.options.burst);
    let (mut sent, mut delivered) = (0u64, 0u64);
    let mut last_delivery = start;
    let count = |ctx: &mut Ctx, delivered: &mut u64, last: &mut Instant| {
        let n = ctx
            .driver
            .drain_messages(PERF_ID)
            .iter()
            .filter(|m| m.topic == topic)
            .count();
        if n > 0 {
            *delivered += n as u64;
            *last = Instant::now();
        }
    };
    while Instant::now() < stop && ctx.driver.is_connected(PERF_ID) {
        while sent - delivered < BURST_WINDOW {
            ctx.driver
                .publish_untracked(PERF_ID, outgoing(&topic, payload.clone(), qos));
            sent += 1;
        }
        ctx.driver.pump(Instant::now() + Duration::from_millis(2));
        ctx.driver.pump_ready();
        count(ctx, &mut delivered, &mut last_delivery);
    }
    let seconds = start.elapsed().as_secs_f64();
    // Stragglers: whatever was sent may still come back. Not bound by the deadline, which
    // the burst may have reached, but short.
    let grace = Instant::now() + ctx.options.wait;
    while delivered < sent && Instant::now() < grace && ctx.driver.is_connected(PERF_ID) {
        ctx.driver.pump(grace);
        ctx.driver.pump_ready();
        count(ctx, &mut delivered, &mut last_delivery);
    }
    // Per second of delivering: from the first publish to the last message back.
    let busy = last_delivery.duration_since(start).as_secs_f64();
    Some(Throughput {
        qos,
        seconds,
        sent,
        delivered,
        lost: sent.saturating_sub(delivered),
        msgs_per_sec: if busy > 0.0 { delivered as f64 / busy } else { 0.0 },
    })
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=200).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 100.0);
        assert_eq!(percentile(&v, 0.99), 198.0);
        assert_eq!(percentile(&v, 1.0), 200.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }
}
