//! The report card's part of the app: which broker to probe, the probe as a background job,
//! and the exports (Markdown and JSON through the probe's renderers, PNG from a screenshot of
//! the card cropped to where it was drawn).

use std::path::PathBuf;

use super::CanopyApp;
use super::jobs::Background;
use crate::probe::render;
use crate::ui::action::CardFormat;
use crate::ui::i18n::tr;
use crate::ui::notices::Level;
use crate::ui::report_card::ProbeEvent;

impl CanopyApp {
    /// Probes the active connection's broker (its profile is the one it connected with, the
    /// password typed included), else the selected profile's, on a thread of its own: the
    /// probe opens its own connections and never touches the tab's.
    pub(super) fn run_report_card(&mut self) {
        self.report_card.open = true;
        if self.report_card.is_running() {
            return;
        }
        let profile = match self.active_tab() {
            Some(tab) => tab.profile.clone(),
            None => match self.profiles.current() {
                Some(p) => p.clone(),
                None => {
                    self.notices
                        .push(Level::Warning, tr!("app_report.pick_first").into_owned());
                    return;
                }
            },
        };
        let (serial, options) = self.report_card.start(profile.url());
        self.jobs.spawn("probe", move |jobs| {
            let send = |event| jobs.send(Background::Probe { serial, event });
            // The sandbox's address is known once it runs (a no-op for any other profile).
            let profile = match crate::sandbox::resolve(profile) {
                Ok(p) => p,
                Err(e) => {
                    send(ProbeEvent::Failed(format!(
                        "The sandbox broker could not start: {e}"
                    )));
                    return;
                }
            };
            let result = crate::probe::run(&profile, &options, |step| send(ProbeEvent::Step(step)));
            send(ProbeEvent::Done(Box::new(result)));
        });
    }

    /// Saves the card shown as `format`, to `path` or where the user picks.
    pub(super) fn export_report_card(&mut self, format: CardFormat, path: Option<PathBuf>) {
        let Some(report) = self.report_card.report() else {
            return;
        };
        let name = crate::ui::report_card::layout::file_name(report, format.extension());
        match format {
            CardFormat::Markdown => {
                let text = render::markdown(report);
                self.save_file_to(path, "Report card", name, move || Ok(text.into_bytes()));
            }
            CardFormat::Json => {
                let text = render::json(report).map_err(|e| e.to_string());
                self.save_file_to(path, "Report card", name, move || text.map(String::into_bytes));
            }
            CardFormat::Png => {
                let Some(rect) = self.report_card.card_rect else {
                    self.notify(Level::Warning, tr!("app_report.open_first"));
                    return;
                };
                // The screenshot is of this frame, where the card is at `rect`; it arrives
                // after painting, and the crop and PNG encoding run on the save job's thread.
                let pixels_per_point = self.ctx.pixels_per_point();
                let jobs = self.jobs.clone();
                self.ctx.request_screenshot(move |image| {
                    jobs.send(Background::CardImage {
                        image,
                        rect,
                        pixels_per_point,
                        path,
                        suggested_name: name,
                    });
                });
            }
        }
    }

    /// The report card window's state (for tests and tools).
    pub fn report_card(&self) -> &crate::ui::report_card::ReportCard {
        &self.report_card
    }
}
