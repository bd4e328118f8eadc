//! The broker report card in the window: `canopy probe` run as a background job with its
//! progress, and its [`Report`] shown as a card worth putting in front of a customer, with
//! exports (Markdown, JSON, PNG) and a copy to the clipboard.
//!
//! - here: the state ([`ReportCard`]: idle, running, done, failed) and the window around the
//!   card (progress, Cancel, the export buttons);
//! - `card.rs`: the card itself (header, sections, latency bars, throughput, notes);
//! - `layout.rs`: the arithmetic and words, tested apart from drawing.
//!
//! The app starts the probe (`app/report_card.rs`) and feeds [`ReportCard::on_event`].

mod card;
pub mod layout;

use egui::{Context, RichText, Ui};

use super::action::{Action, CardFormat};
use crate::probe::{CancelFlag, ProbeError, ProbeOptions, ProbeStep, Report};
use crate::ui::i18n::tr;

/// Steps a probe reports when the broker speaks every version: 3 versions, features, `$SYS`,
/// MQTT 5, payload, 3 latencies, 2 bursts, cleanup. For the progress bar only.
const EXPECTED_STEPS: u32 = 13;
/// The window's width at first, in points: the card's two columns need about this much.
const WIDTH: f32 = 920.0;

/// What the probe thread tells the window.
#[derive(Debug)]
pub enum ProbeEvent {
    /// A step started.
    Step(ProbeStep),
    /// The probe ended.
    Done(Box<Result<Report, ProbeError>>),
    /// The probe could not even start (the sandbox broker did not): why.
    Failed(String),
}

/// A probe under way.
#[derive(Debug)]
pub struct Progress {
    /// Which run this is: events of an earlier, cancelled run are ignored.
    pub serial: u64,
    /// The broker, as a URL without credentials.
    pub broker: String,
    /// The step under way (`None` before the first).
    pub step: Option<ProbeStep>,
    /// Steps started so far.
    pub steps: u32,
    /// Shared with the probe thread; set by Cancel.
    pub cancel: CancelFlag,
    /// Run with [`ProbeOptions::quick`].
    pub quick: bool,
}

/// Where the report card is.
#[derive(Debug, Default)]
pub enum Run {
    /// Never run in this window.
    #[default]
    Idle,
    /// The probe is running.
    Running(Progress),
    /// A report to show.
    Done {
        /// The report.
        report: Box<Report>,
        /// Made with the quick options (the card says so).
        quick: bool,
    },
    /// The probe gave no report: why, in words.
    Failed(String),
}

/// The report card window's state.
#[derive(Debug, Default)]
pub struct ReportCard {
    /// The window is shown.
    pub open: bool,
    /// The next run uses [`ProbeOptions::quick`] (a few seconds instead of about fifteen).
    pub quick: bool,
    /// Where the card is.
    pub run: Run,
    /// Where the card (without the buttons around it) was drawn in the last frame, in points,
    /// clipped to what is visible: the region a PNG export keeps of the screenshot.
    pub card_rect: Option<egui::Rect>,
    /// Serial of the last run started.
    serial: u64,
}

impl ReportCard {
    /// Starts a new run for `broker` (shown until the report comes): the serial its events
    /// carry and the options to probe with.
    pub fn start(&mut self, broker: String) -> (u64, ProbeOptions) {
        self.serial += 1;
        let options = if self.quick {
            ProbeOptions::quick()
        } else {
            ProbeOptions::default()
        };
        self.run = Run::Running(Progress {
            serial: self.serial,
            broker,
            step: None,
            steps: 0,
            cancel: options.cancel.clone(),
            quick: self.quick,
        });
        self.open = true;
        (self.serial, options)
    }

    /// Whether a probe is running.
    pub fn is_running(&self) -> bool {
        matches!(self.run, Run::Running(_))
    }

    /// The report shown, if any.
    pub fn report(&self) -> Option<&Report> {
        match &self.run {
            Run::Done { report, .. } => Some(report),
            _ => None,
        }
    }

    /// Applies what the probe thread of run `serial` said; an older run's events are dropped.
    pub fn on_event(&mut self, serial: u64, event: ProbeEvent) {
        let Run::Running(progress) = &mut self.run else {
            return;
        };
        if progress.serial != serial {
            return;
        }
        match event {
            ProbeEvent::Step(step) => {
                progress.step = Some(step);
                progress.steps += 1;
            }
            ProbeEvent::Failed(why) => self.run = Run::Failed(why),
            ProbeEvent::Done(result) => {
                let quick = progress.quick;
                self.card_rect = None;
                self.run = match *result {
                    Ok(report) => Run::Done {
                        report: Box::new(report),
                        quick,
                    },
                    Err(ProbeError::Cancelled) => Run::Failed(tr!("report.cancelled").into_owned()),
                    Err(e) => Run::Failed(tr!("report.failed", error = e).into_owned()),
                };
            }
        }
    }
}

/// Draws the report card window while it is open.
pub fn report_card_ui(ctx: &Context, state: &mut ReportCard, actions: &mut Vec<Action>) {
    let mut open = state.open;
    let screen = ctx.content_rect();
    egui::Window::new(tr!("report.title"))
        .id(egui::Id::unique("report-card-window"))
        .open(&mut open)
        .default_size([WIDTH, screen.height() - 120.0])
        .max_height(screen.height() - 60.0)
        .default_pos([(screen.center().x - WIDTH / 2.0).max(0.0), 44.0])
        .resizable(true)
        .collapsible(false)
        .show(ctx, |ui| {
            let mut card_rect = None;
            match &state.run {
                Run::Idle => {
                    ui.label(tr!("report.press"));
                }
                Run::Running(progress) => progress_ui(ui, progress),
                Run::Failed(why) => {
                    crate::ui::widgets::error(ui, why.as_str());
                }
                Run::Done { report, quick } => {
                    toolbar_ui(ui, report, actions);
                    ui.add_space(6.0);
                    // Room below for Run again, so the window never outgrows the screen.
                    let height = (ui.available_height() - 40.0).max(120.0);
                    egui::ScrollArea::vertical()
                        .max_height(height)
                        .auto_shrink([false, true])
                        .show(ui, |ui| {
                            let rect = card::card_ui(ui, report, *quick);
                            card_rect = Some(rect.intersect(ui.clip_rect()));
                        });
                }
            }
            if !state.is_running() {
                ui.add_space(6.0);
                ui.horizontal(|ui| {
                    if ui.button(tr!("report.run_again")).clicked() {
                        actions.push(Action::RunReportCard);
                    }
                    ui.checkbox(&mut state.quick, tr!("report.quick"))
                        .on_hover_text(tr!("report.quick_hover"));
                });
            }
            state.card_rect = card_rect;
        });
    state.open = open;
}

/// The running probe: the broker, the step, a bar and Cancel.
fn progress_ui(ui: &mut Ui, progress: &Progress) {
    ui.add_space(8.0);
    ui.label(RichText::new(tr!("report.probing", broker = progress.broker)).heading());
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        ui.spinner();
        let step = match (&progress.step, progress.cancel.is_cancelled()) {
            (_, true) => tr!("report.cancelling").into_owned(),
            (Some(step), false) => step.to_string(),
            (None, false) => tr!("report.starting").into_owned(),
        };
        ui.label(step);
    });
    ui.add(egui::ProgressBar::new(progress.steps as f32 / EXPECTED_STEPS as f32).desired_width(420.0));
    ui.label(
        RichText::new(if progress.quick {
            tr!("report.quick_takes")
        } else {
            tr!("report.full_takes")
        })
        .weak(),
    );
    ui.add_space(4.0);
    if ui
        .add_enabled(
            !progress.cancel.is_cancelled(),
            egui::Button::new(tr!("report.cancel")),
        )
        .clicked()
    {
        // The flag is this window's own state, shared with the probe thread.
        progress.cancel.cancel();
    }
}

/// Export and copy buttons, above the card (not part of the PNG).
fn toolbar_ui(ui: &mut Ui, report: &Report, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        for (label, format) in [
            ("⬇ Markdown", CardFormat::Markdown),
            ("⬇ JSON", CardFormat::Json),
            ("🖼 PNG", CardFormat::Png),
        ] {
            if ui
                .button(label)
                .on_hover_text(tr!("report.save_as", format = format.label()))
                .clicked()
            {
                actions.push(Action::ExportReportCard { format, path: None });
            }
        }
        if ui
            .button(tr!("report.copy_markdown"))
            .on_hover_text(tr!("report.copy_markdown_hover"))
            .clicked()
        {
            ui.ctx().copy_text(crate::probe::render::markdown(report));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_runs_late_events_do_not_touch_the_next_run() {
        let mut card = ReportCard::default();
        let (first, options) = card.start("mqtt://a".into());
        options.cancel.cancel();
        let (second, _) = card.start("mqtt://b".into());
        card.on_event(first, ProbeEvent::Done(Box::new(Err(ProbeError::Cancelled))));
        card.on_event(first, ProbeEvent::Step(ProbeStep::Sys));
        let Run::Running(p) = &card.run else {
            panic!("{:?}", card.run)
        };
        assert_eq!((p.serial, p.steps, p.broker.as_str()), (second, 0, "mqtt://b"));
        assert!(!p.cancel.is_cancelled(), "each run has its own flag");
        card.on_event(second, ProbeEvent::Step(ProbeStep::Features));
        card.on_event(second, ProbeEvent::Done(Box::new(Err(ProbeError::Cancelled))));
        assert!(matches!(&card.run, Run::Failed(w) if w.starts_with("Cancelled")));
    }

    #[test]
    fn quick_runs_use_the_quick_options() {
        let mut card = ReportCard {
            quick: true,
            ..ReportCard::default()
        };
        let (_, options) = card.start("mqtt://a".into());
        assert_eq!(options.messages, ProbeOptions::quick().messages);
        assert!(card.open && card.is_running());
    }
}
