//! The payload search window: text, `/regex/` or a JSON condition over the latest values (and
//! optionally the kept history) of the active connection; results with topic and time, a click
//! shows the message. The search runs a few milliseconds per frame (see
//! [`crate::model::search::Search`]), so a million topics never stall the window.

use std::time::{Duration, Instant};

use egui::{Context, RichText};

use super::tab::ConnectionTab;
use crate::model::payload;
use crate::model::search::Hit;
use crate::ui::i18n::tr;

/// Time per frame given to searching.
const SLICE: Duration = Duration::from_millis(3);

/// Draws the search window of `tab` while `open`.
pub fn search_ui(ctx: &Context, open: &mut bool, tab: &mut ConnectionTab) {
    let mut chosen: Option<Hit> = None;
    egui::Window::new(tr!("search.title"))
        .id(egui::Id::unique("search-window"))
        .open(open)
        .default_size([620.0, 420.0])
        .resizable(true)
        .show(ctx, |ui| {
            let panel = &mut tab.search;
            ui.horizontal(|ui| {
                let l = ui.label(tr!("search.find"));
                ui.add(
                    egui::TextEdit::singleline(&mut panel.text)
                        .hint_text(tr!("search.hint"))
                        .desired_width(340.0),
                )
                .labelled_by(l.id);
                ui.checkbox(&mut panel.history, tr!("search.include_history"));
            });
            panel.refresh(&tab.tree, Instant::now() + SLICE);
            if let Some(e) = panel.error() {
                super::widgets::error(ui, e.to_owned());
                return;
            }
            let Some(search) = panel.search() else {
                ui.label(RichText::new(tr!("search.help")).weak());
                return;
            };
            let complete = search.progress(&tab.tree) >= 1.0;
            ui.horizontal(|ui| {
                let n = search.hits().len() + search.more();
                let mut summary = if n == 1 {
                    tr!("search.one_match").into_owned()
                } else {
                    tr!("search.matches", n = n).into_owned()
                };
                if search.more() > 0 {
                    summary.push_str(&tr!("search.first_listed", n = search.hits().len()));
                }
                ui.label(RichText::new(summary).strong());
                if !complete {
                    ui.add(egui::ProgressBar::new(search.progress(&tab.tree)).desired_width(160.0));
                    ui.ctx().request_repaint();
                }
            });
            let row_height = ui.spacing().interact_size.y;
            egui::ScrollArea::vertical()
                .auto_shrink([false, false])
                .show_rows(ui, row_height, search.hits().len(), |ui, range| {
                    for hit in &search.hits()[range] {
                        let topic = tab.tree.full_topic(hit.node);
                        let Some(message) = tab.tree.node(hit.node).message(hit.index) else {
                            continue;
                        };
                        let when = super::widgets::clock(hit.received);
                        let preview = payload::preview(&message.payload, 60);
                        ui.horizontal(|ui| {
                            let link = ui.link(RichText::new(&topic).monospace());
                            ui.label(RichText::new(when).weak());
                            if hit.index > 0 {
                                ui.label(
                                    RichText::new(tr!("search.history_index", index = hit.index)).weak(),
                                );
                            }
                            ui.label(RichText::new(preview).monospace().weak());
                            if link.clicked() {
                                chosen = Some(hit.clone());
                            }
                        });
                    }
                });
        });
    if let Some(hit) = chosen {
        show(tab, &hit);
    }
}

/// Selects a hit in the tree (expanding its ancestors and scrolling to it) and shows the
/// message that matched.
fn show(tab: &mut ConnectionTab, hit: &Hit) {
    let ancestors: Vec<_> = tab.tree.ancestors(hit.node).collect();
    for a in ancestors {
        tab.view.set_expanded(a, true);
    }
    tab.select(hit.node);
    tab.history_index = hit.index;
    tab.view.scroll_to_selected = true;
}
