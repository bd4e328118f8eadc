//! The payload search window: text, `/regex/` or a JSON condition over the latest values (and
//! optionally the kept history) of the active connection; results with topic and time, a click
//! shows the message. The search runs a few milliseconds per frame (see
//! [`crate::model::search::Search`]), so a million topics never stall the window.

use std::time::{Duration, Instant};

use egui::{Context, RichText};

use super::tab::ConnectionTab;
use crate::model::payload;
use crate::model::topic_tree::NodeId;
use crate::ui::i18n::tr;

/// Time per frame given to searching.
const SLICE: Duration = Duration::from_millis(3);

/// Draws the search window of `tab` while `open`.
pub fn search_ui(ctx: &Context, open: &mut bool, tab: &mut ConnectionTab) {
    let mut chosen: Option<(NodeId, Option<usize>)> = None;
    // Below the tab's filter row, over the tree: the message view, where a clicked result
    // shows, stays visible on the right.
    let screen = ctx.content_rect();
    // The window was not drawn last frame: it has just been opened, so its field takes the
    // keyboard (typing right after pressing Search is what people do).
    let frame = ctx.cumulative_frame_nr();
    let shown_at = egui::Id::unique("search-window-shown-at");
    let just_opened = ctx
        .data(|d| d.get_temp::<u64>(shown_at))
        .is_none_or(|last| last + 1 < frame);
    ctx.data_mut(|d| d.insert_temp(shown_at, frame));
    egui::Window::new(tr!("search.title"))
        .id(egui::Id::unique("search-window"))
        .open(open)
        .default_pos([(screen.center().x - 450.0).max(8.0), 130.0])
        .default_size([620.0, 420.0])
        .resizable(true)
        .show(ctx, |ui| {
            let panel = &mut tab.search;
            ui.horizontal(|ui| {
                let l = ui.label(tr!("search.find"));
                let field = ui
                    .add(
                        egui::TextEdit::singleline(&mut panel.text)
                            .hint_text(tr!("search.hint"))
                            .desired_width(340.0),
                    )
                    .labelled_by(l.id);
                if just_opened {
                    field.request_focus();
                }
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
            let mut again = false;
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
                } else {
                    again = ui
                        .small_button(tr!("search.again"))
                        .on_hover_text(tr!("search.again_hover"))
                        .clicked();
                }
            });
            let row_height = ui.spacing().interact_size.y;
            egui::ScrollArea::vertical()
                .auto_shrink([false, false])
                .show_rows(ui, row_height, search.hits().len(), |ui, range| {
                    for hit in &search.hits()[range] {
                        let topic = tab.tree.full_topic(hit.node);
                        let now = hit.locate(&tab.tree);
                        let message = now.and_then(|i| tab.tree.node(hit.node).message(i));
                        let when = super::widgets::clock(hit.received);
                        ui.horizontal(|ui| {
                            let link = ui.link(RichText::new(&topic).monospace());
                            ui.label(RichText::new(when).weak());
                            // Where the matched message is now: the topic may have moved on.
                            match now {
                                Some(0) => {}
                                Some(i) if hit.index == 0 => {
                                    ui.label(RichText::new(tr!("search.since_replaced", n = i)).weak())
                                        .on_hover_text(tr!("search.since_replaced_hover"));
                                }
                                Some(i) => {
                                    ui.label(RichText::new(tr!("search.history_index", index = i)).weak());
                                }
                                None => {
                                    ui.label(RichText::new(tr!("search.no_longer_kept")).weak());
                                }
                            }
                            if let Some(message) = message {
                                let preview = payload::preview(&message.payload, 60);
                                ui.label(RichText::new(preview).monospace().weak());
                            }
                            if link.clicked() {
                                chosen = Some((hit.node, now));
                            }
                        });
                    }
                });
            if again {
                tab.search.restart();
                ui.ctx().request_repaint();
            }
        });
    if let Some((node, index)) = chosen {
        show(tab, node, index);
    }
}

/// Selects a hit's topic in the tree (expanding its ancestors and scrolling to it) and shows
/// the message that matched, or the latest when it is no longer kept.
fn show(tab: &mut ConnectionTab, node: NodeId, index: Option<usize>) {
    let ancestors: Vec<_> = tab.tree.ancestors(node).collect();
    for a in ancestors {
        tab.view.set_expanded(a, true);
    }
    tab.select(node);
    tab.history_index = index.unwrap_or(0);
    tab.view.scroll_to_selected = true;
}
