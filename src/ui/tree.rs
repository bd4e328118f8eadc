//! The topic tree panel: filter, `$SYS` toggle, and only the visible rows drawn.

use std::time::{Duration, Instant};

use egui::{Align, Color32, Key, Layout, RichText, Sense, Ui};

use super::tab::ConnectionTab;
use super::widgets;
use crate::model::topic_tree::NodeId;
use crate::model::{decode, payload};
use crate::ui::i18n::tr;

/// How long a node shows its update dot after an update.
const HIGHLIGHT: Duration = Duration::from_millis(1200);
/// Width kept left of every row for the update dot.
const UPDATE_GUTTER: f32 = 10.0;
/// Radius of the update dot.
const UPDATE_DOT_RADIUS: f32 = 3.0;
/// Opacity of the counts and ages beside the rows (of the normal text colour): readable,
/// yet quieter than the topic names.
const SIDE_TEXT_ALPHA: f32 = 0.8;
/// The highlight fades in this many steps, not smoothly: each step is one repaint, so live
/// traffic costs a few frames a second instead of an animation at full frame rate (a window
/// left open all day on a laptop).
const HIGHLIGHT_STEPS: u32 = 3;
/// Fading steps of different rows are drawn together, at most this often.
const HIGHLIGHT_REPAINT: Duration = Duration::from_millis(250);

/// The update dot of a row updated `age` ago: its opacity (fading in [`HIGHLIGHT_STEPS`]
/// steps from 0.9 down) and the time until its next step, or `None` once it has faded out.
fn highlight(age: Duration) -> Option<(f32, Duration)> {
    if age >= HIGHLIGHT {
        return None;
    }
    let step_len = HIGHLIGHT / HIGHLIGHT_STEPS;
    let step = (age.as_nanos() / step_len.as_nanos()) as u32;
    let until_next = step_len * (step + 1) - age;
    let alpha = 0.9 * (1.0 - step as f32 / HIGHLIGHT_STEPS as f32);
    Some((alpha, until_next))
}

/// The value column starts at most this far into a row (a fraction of its width); a longer
/// name pushes only its own value further.
const VALUE_COLUMN_MAX: f32 = 0.45;
/// Space between a name and its value, and between the value and the counts.
const VALUE_GAP: f32 = 14.0;
/// Opacity of the values (of the normal text colour): monospace sets them apart from names;
/// the weak colour they had was hard to read on a projector.
const VALUE_TEXT_ALPHA: f32 = 0.85;
/// A cut value shows this much of itself on hover.
const HOVER_CHARS: usize = 600;
/// Width of that hover, in points.
const HOVER_WIDTH: f32 = 520.0;

/// `text` cut to at most `max` characters, with an ellipsis, at the end of a word (after a
/// space or a separator such as `,`) when there is one in its second half; returns whether it
/// was cut. A value cut mid-word (`{"value":40.7,"un…`) read as a different value.
fn cut_at_word(text: &str, max: usize) -> (String, bool) {
    let text = &squeeze_spaces(text);
    if text.chars().count() <= max {
        return (text.to_owned(), false);
    }
    let keep: Vec<char> = text.chars().take(max.saturating_sub(1)).collect();
    let boundary = keep
        .iter()
        .rposition(|c| c.is_whitespace() || matches!(c, ',' | ';' | '|' | '·' | '/'))
        .filter(|at| *at + 1 >= keep.len() / 2);
    let end = boundary.map_or(keep.len(), |at| at + 1);
    // A Sparkplug preview separates metrics by " · ": no dangling dot before the ellipsis.
    let mut out: String = keep[..end]
        .iter()
        .collect::<String>()
        .trim_end_matches([' ', '·'])
        .to_owned();
    out.push('…');
    (out, true)
}

/// `text` with every run of white space made one space: a pretty-printed JSON payload on one
/// row read `{   "target": 182.5,   "unit"…` (its newlines and indentation).
fn squeeze_spaces(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut after_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            if !after_space {
                out.push(' ');
            }
            after_space = true;
        } else {
            out.push(c);
            after_space = false;
        }
    }
    out
}

/// Width of the counts and the age at the right of a row, with their spacing.
fn side_text_width(ui: &Ui, counts: &str, age: Option<&str>) -> f32 {
    let font = egui::TextStyle::Body.resolve(ui.style());
    let spacing = ui.spacing().item_spacing.x;
    ui.ctx().fonts_mut(|f| {
        let mut width = f
            .layout_no_wrap(counts.to_owned(), font.clone(), Color32::WHITE)
            .size()
            .x;
        if let Some(age) = age {
            width += spacing + f.layout_no_wrap(age.to_owned(), font, Color32::WHITE).size().x;
        }
        width + spacing
    })
}

/// Time per frame the tree panel may spend filtering and flattening rows; the rest waits for
/// the next frame so that typing into the filter of a million topics never stalls one.
const VIEW_BUDGET: Duration = Duration::from_millis(3);

/// Width kept for the filter's ✖ button beside the field (its size plus spacing).
const CLEAR_BUTTON_WIDTH: f32 = 28.0;

/// Draws the filter bar and the tree of the active connection.
pub fn tree_ui(ui: &mut Ui, tab: &mut ConnectionTab) {
    header_ui(ui, tab);
    let deadline = Instant::now() + VIEW_BUDGET;
    tab.view.refresh(&mut tab.tree, Some(deadline));
    if let Some(progress) = tab.view.pending(&tab.tree) {
        // The rest is done in the next frames; say so when it is the user's change.
        ui.ctx().request_repaint();
        if tab.view.stale() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(tr!(
                    "tree.filtering",
                    n = widgets::count(u64::from(tab.tree.topic_count())),
                    percent = format!("{:.0}", progress * 100.0)
                ));
            });
        }
    }
    ui.separator();
    keyboard(ui, tab);
    tab.view.refresh(&mut tab.tree, Some(deadline));

    if tab.view.rows.is_empty() {
        ui.add_space(20.0);
        ui.vertical_centered(|ui| {
            let text = if tab.tree.topic_count() == 0 {
                if tab.connected() {
                    tr!("tree.waiting")
                } else {
                    tr!("tree.no_messages")
                }
            } else {
                tr!("tree.no_match")
            };
            ui.label(RichText::new(text).weak());
        });
        return;
    }

    let row_height = ui.spacing().interact_size.y;
    let now = Instant::now();
    // When the next highlight step is due (the soonest of all visible rows).
    let mut next_fade: Option<Duration> = None;
    let scroll_to = tab.view.scroll_to_selected.then_some(tab.view.selected).flatten();
    tab.view.scroll_to_selected = false;
    let mut toggle: Option<NodeId> = None;
    let mut select: Option<NodeId> = None;
    let total_rows = tab.view.rows.len();
    // The scroll bar floats over the rows' right end: keep the ages out from under it.
    let scroll = &ui.spacing().scroll;
    let scroll_room = scroll.bar_width + scroll.bar_inner_margin + scroll.bar_outer_margin;
    // Where the values start: after the widest name drawn in the last frame (one frame late,
    // so each row is drawn once; a change repaints).
    let column_id = egui::Id::unique("tree-value-column");
    let value_column = ui.data(|d| d.get_temp::<f32>(column_id)).unwrap_or(0.0) + VALUE_GAP;
    let mut widest_name = 0.0_f32;
    let glyph = ui
        .ctx()
        .fonts_mut(|f| f.glyph_width(&egui::TextStyle::Monospace.resolve(ui.style()), '0'));
    let value_color = ui.visuals().text_color().gamma_multiply(VALUE_TEXT_ALPHA);
    egui::ScrollArea::both().auto_shrink([false, false]).show_rows(
        ui,
        row_height,
        total_rows,
        |ui, range| {
            let row_width = (ui.available_width() - scroll_room).max(0.0);
            for row in &tab.view.rows[range] {
                let node = tab.tree.node(row.id);
                let selected = tab.view.selected == Some(row.id);
                let expanded = tab.view.expanded.contains(&row.id) || !tab.view.filter.trim().is_empty();
                let (rect, _) = ui.allocate_exact_size(egui::vec2(row_width, row_height), Sense::hover());
                let last_update = tab.tree.last_update(row.id);
                if let Some(t) = last_update
                    && let Some((alpha, until_next)) = highlight(now.saturating_duration_since(t))
                {
                    next_fade = Some(next_fade.map_or(until_next, |n| n.min(until_next)));
                    // A dot in the gutter, not a tinted row: at 20 msg/s every row updates
                    // and tinted rows merged into one solid block.
                    let centre = egui::pos2(rect.left() + UPDATE_GUTTER / 2.0, rect.center().y);
                    let color = ui.visuals().selection.stroke.color.gamma_multiply(alpha);
                    ui.painter().circle_filled(centre, UPDATE_DOT_RADIUS, color);
                }
                let mut row_ui = ui.new_child(
                    egui::UiBuilder::new()
                        .max_rect(rect)
                        .layout(Layout::left_to_right(Align::Center)),
                );
                row_ui.add_space(UPDATE_GUTTER + f32::from(row.depth) * 16.0);
                if !node.has_children() {
                    row_ui.add_space(18.0);
                } else {
                    let arrow = if expanded { "⏷" } else { "⏵" };
                    let r = row_ui.add(
                        egui::Button::new(arrow)
                            .frame(false)
                            .min_size(egui::vec2(18.0, 0.0)),
                    );
                    let name = if expanded {
                        tr!("tree.collapse")
                    } else {
                        tr!("tree.expand")
                    };
                    if widgets::named(r.on_hover_text(&*name), &name).clicked() {
                        toggle = Some(row.id);
                    }
                }
                let name = shown_name(tab, row.id);
                let name = if node.is_topic() {
                    RichText::new(name).strong()
                } else {
                    RichText::new(name)
                };
                let r = row_ui.selectable_label(selected, name);
                if r.clicked() {
                    select = Some(row.id);
                }
                if r.double_clicked() && node.has_children() {
                    toggle = Some(row.id);
                }
                if scroll_to == Some(row.id) {
                    r.scroll_to_me(Some(Align::Center));
                }
                if node.retained() {
                    row_ui
                        .label(RichText::new("R").small().color(Color32::from_rgb(230, 160, 40)))
                        .on_hover_text(tr!("tree.retained_hover"));
                }
                if node.unasked() {
                    row_ui
                        .label(RichText::new(tr!("tree.unasked")).small().italics().weak())
                        .on_hover_text(tr!("tree.unasked_hover"));
                }
                let name_end = row_ui.cursor().min.x - rect.left();
                widest_name = widest_name.max(name_end);
                // The right side first (measured), so that the value knows its room.
                let side = ui.visuals().text_color().gamma_multiply(SIDE_TEXT_ALPHA);
                let counts = if !node.has_children() {
                    widgets::count(node.messages())
                } else {
                    tr!(
                        "tree.subtree_counts",
                        messages = widgets::count(node.subtree_messages()),
                        topics = widgets::count(u64::from(node.subtree_topics()))
                    )
                    .into_owned()
                };
                let age = last_update.map(|t| widgets::age(now.saturating_duration_since(t)));
                let side_width = side_text_width(&row_ui, &counts, age.as_deref());
                if let Some(latest) = node.latest() {
                    // Values line up in a column after the names (as far as it can go),
                    // so that they read as a table rather than a ragged edge.
                    let column = value_column.min(rect.width() * VALUE_COLUMN_MAX);
                    if column > name_end {
                        row_ui.add_space(column - name_end);
                    }
                    // Below the Sparkplug namespace (found from the top-level ancestor, without
                    // building the row's full topic every frame).
                    let sparkplug = tab
                        .tree
                        .ancestors(row.id)
                        .last()
                        .is_some_and(|top| tab.tree.name(top) == decode::sparkplug::NAMESPACE);
                    let width = (row_ui.available_width() - side_width - VALUE_GAP).max(0.0);
                    let fit = (width / glyph).floor() as usize;
                    // A topic bound to a protobuf type shows its decoded JSON, not the bytes
                    // (decoded here for the visible rows only).
                    let decoded = tab.proto.decoder().filter(|_| !sparkplug).and_then(|d| {
                        let json = d.decode(&tab.tree.full_topic(row.id), &latest.payload)?;
                        Some(match json {
                            Ok((json, _)) => json.to_string().into_bytes(),
                            Err(e) => format!("⚠ {e}").into_bytes(),
                        })
                    });
                    let preview = |max_chars: usize| {
                        sparkplug
                            .then(|| payload::sparkplug_preview(&latest.payload, max_chars))
                            .flatten()
                            .unwrap_or_else(|| {
                                // Redaction (presentation mode) applies to what the tree shows.
                                let bytes = decoded.as_deref().unwrap_or(&latest.payload);
                                let shown = tab.redactor.payload(tab.tree.name(row.id), bytes);
                                payload::preview(&shown, max_chars)
                            })
                    };
                    // A few characters more than fit, to know whether the value goes on.
                    let (shown, cut) = cut_at_word(&preview(fit + 8), fit);
                    row_ui.allocate_ui(egui::vec2(width, row_height), |ui| {
                        let label = ui.add(
                            egui::Label::new(RichText::new(shown).monospace().color(value_color)).truncate(),
                        );
                        if cut {
                            label.on_hover_ui(|ui| {
                                ui.set_max_width(HOVER_WIDTH);
                                ui.label(RichText::new(preview(HOVER_CHARS)).monospace());
                            });
                        }
                    });
                }
                row_ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                    // Body-sized and a little dimmer than names: tiny weak text was unreadable
                    // on a projector.
                    if let Some(age) = age {
                        ui.label(RichText::new(age).color(side));
                    }
                    ui.label(RichText::new(counts).color(side))
                        .on_hover_text(tr!("tree.counts_hover"));
                });
            }
        },
    );
    if (widest_name + VALUE_GAP - value_column).abs() > 0.5 {
        ui.data_mut(|d| d.insert_temp(column_id, widest_name));
        ui.ctx().request_repaint();
    }
    if let Some(id) = toggle {
        let open = !tab.view.expanded.contains(&id);
        tab.view.set_expanded(id, open);
    }
    if let Some(id) = select {
        tab.select(id);
    }
    if let Some(next) = next_fade {
        ui.ctx().request_repaint_after(next.max(HIGHLIGHT_REPAINT));
    }
}

/// A row's name, or [`MASK`](crate::model::redact::MASK) when the redaction hides its level
/// (decided from the levels above it, the same way the topic string is).
fn shown_name(tab: &ConnectionTab, id: NodeId) -> &str {
    let name = tab.tree.name(id);
    if !tab.redactor.hides_levels() {
        return name;
    }
    let mut path: Vec<&str> = tab.tree.ancestors(id).map(|a| tab.tree.name(a)).collect();
    path.reverse();
    path.push(name);
    if tab.redactor.hides_level(&path) {
        crate::model::redact::MASK
    } else {
        name
    }
}

/// The filter (the field takes what the ✖ leaves), then `$SYS` and the counts on a line
/// of their own that wraps: on one line they were clipped as soon as the ✖ appeared in a
/// column of the default 1440-px window.
fn header_ui(ui: &mut Ui, tab: &mut ConnectionTab) {
    ui.horizontal(|ui| {
        ui.label("🔍");
        // Named by a word, not by the magnifier (what a screen reader would speak).
        let name = ui.label(RichText::new(tr!("tree.filter")).weak());
        let field_width = (ui.available_width() - CLEAR_BUTTON_WIDTH).max(60.0);
        ui.add(
            egui::TextEdit::singleline(&mut tab.view.filter)
                .hint_text(tr!("tree.filter_hint"))
                .desired_width(field_width),
        )
        .labelled_by(name.id);
        if !tab.view.filter.is_empty() && widgets::icon_button(ui, "✖", &tr!("tree.clear_filter")).clicked()
        {
            tab.view.filter.clear();
        }
    });
    ui.horizontal_wrapped(|ui| {
        ui.checkbox(&mut tab.view.show_sys, tr!("tree.show_sys"));
        ui.separator();
        ui.label(tr!(
            "tree.totals",
            topics = widgets::count(u64::from(tab.tree.topic_count())),
            messages = widgets::count(tab.tree.total_messages())
        ));
    });
}

/// Arrow keys: up/down move, right expands (or enters), left collapses (or goes to the parent).
fn keyboard(ui: &mut Ui, tab: &mut ConnectionTab) {
    if ui.ctx().egui_wants_keyboard_input() || tab.view.rows.is_empty() {
        return;
    }
    let (down, up, right, left) = ui.input(|i| {
        (
            i.key_pressed(Key::ArrowDown),
            i.key_pressed(Key::ArrowUp),
            i.key_pressed(Key::ArrowRight),
            i.key_pressed(Key::ArrowLeft),
        )
    });
    if !(down || up || right || left) {
        return;
    }
    let rows = &tab.view.rows;
    let pos = tab
        .view
        .selected
        .and_then(|s| rows.iter().position(|r| r.id == s));
    let Some(pos) = pos else {
        let first = rows[0].id;
        tab.select(first);
        tab.view.scroll_to_selected = true;
        return;
    };
    let id = rows[pos].id;
    let node = tab.tree.node(id);
    let filtering = !tab.view.filter.trim().is_empty();
    if down && pos + 1 < rows.len() {
        let next = rows[pos + 1].id;
        tab.select(next);
    } else if up && pos > 0 {
        let prev = rows[pos - 1].id;
        tab.select(prev);
    } else if right && node.has_children() {
        if tab.view.expanded.contains(&id) || filtering {
            if let Some(next) = rows.get(pos + 1).map(|r| r.id) {
                tab.select(next);
            }
        } else {
            tab.view.set_expanded(id, true);
        }
    } else if left {
        if tab.view.expanded.contains(&id) && !filtering {
            tab.view.set_expanded(id, false);
        } else {
            let parent = tab.tree.ancestors(id).next();
            if let Some(parent) = parent {
                tab.select(parent);
            }
        }
    }
    tab.view.scroll_to_selected = true;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_cut_after_a_word_never_inside_one() {
        let json = r#"{"value":40.7,"unit":"°C","ts":1795726514176}"#;
        assert_eq!(cut_at_word(json, 100), (json.to_owned(), false));
        assert_eq!(
            cut_at_word(json, 30),
            (r#"{"value":40.7,"unit":"°C",…"#.to_owned(), true)
        );
        assert_eq!(
            cut_at_word("running smoothly since monday", 20),
            ("running smoothly…".to_owned(), true)
        );
        // A pretty-printed payload reads as one line.
        assert_eq!(
            cut_at_word("{\n  \"target\": 182.5,\n  \"unit\": \"°C\"\n}", 40),
            ("{ \"target\": 182.5, \"unit\": \"°C\" }".to_owned(), false)
        );
        assert_eq!(
            cut_at_word("Line/Speed=42.5 · Line/Running=true · Recipe=PX-200", 40),
            ("Line/Speed=42.5 · Line/Running=true…".to_owned(), true)
        );
        // One long word: cut where it must.
        assert_eq!(cut_at_word("abcdefghijklmnop", 8), ("abcdefg…".to_owned(), true));
        // Never longer than asked, ellipsis included.
        for max in 1..40 {
            assert!(cut_at_word(json, max).0.chars().count() <= max, "{max}");
        }
    }

    #[test]
    fn the_update_dot_fades_in_steps_then_goes() {
        let (fresh, next) = highlight(Duration::ZERO).unwrap();
        assert!((fresh - 0.9).abs() < 1e-6);
        assert_eq!(next, HIGHLIGHT / HIGHLIGHT_STEPS);
        let (later, _) = highlight(HIGHLIGHT - Duration::from_millis(1)).unwrap();
        assert!(later < fresh && later > 0.0);
        assert_eq!(highlight(HIGHLIGHT), None);
    }
}
