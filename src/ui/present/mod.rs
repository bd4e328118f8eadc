//! Presentation mode: the window given over to a demo or a wall screen. The active
//! connection's pinned topics (and a chosen subtree) as tiles in a grid that fills the
//! screen, the message rate of the last minutes below, larger type, and the profile's
//! redaction rules applied to everything shown.
//!
//! Edits made here (unpinning, a tile's field or range, the rules) are made to a copy of the
//! profile's [`Presentation`] and asked for as one [`Action::SetPresentation`] at the end of
//! the frame, which saves the profile.

mod menus;
mod rate;
mod tile;

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use egui::{Align, Layout, Panel, Rect, RichText, Ui, UiBuilder, vec2};

use self::tile::{TileView, tile_ui};
use super::action::Action;
use super::tab::ConnectionTab;
use crate::model::present::{self, Presentation, Tile, Tone, Value};
use crate::model::topic_tree::{NodeId, ROOT, TopicTree};
use crate::ui::i18n::tr;

pub use self::tile::{accent, tone_color};

/// Type is this much larger while presenting.
pub const TEXT_SCALE: f32 = 1.3;
/// Tiles a subtree adds at most (a wall screen, not a tree browser).
pub const MAX_SUBTREE_TILES: usize = 48;
/// Nodes looked at to find a subtree's topics, at most (a frame stays short in a huge tree).
const MAX_SUBTREE_VISITS: usize = 20_000;
/// Space between tiles, in points.
const GAP: f32 = 14.0;
/// Narrowest tile, in points.
const MIN_TILE_WIDTH: f32 = 290.0;
/// Lowest tile, in points.
const MIN_TILE_HEIGHT: f32 = 170.0;
/// Width kept in a tile's corner for its menu button.
const MENU_WIDTH: f32 = 30.0;

/// Presentation mode's state in the window (not saved: the tiles and rules live in the
/// profile).
#[derive(Debug, Default)]
pub struct PresentState {
    /// Whether the window is presenting.
    pub on: bool,
    /// Numbers and states read from each tile's history, by (topic, field, unit), with the
    /// message count they were read at: read again only when a message arrived.
    histories: HashMap<(String, String, String), (u64, History)>,
    /// The redaction rule being typed.
    rule_input: String,
    /// Why the typed rule was refused.
    rule_error: Option<String>,
}

impl PresentState {
    /// Forgets what was read from histories (the rules or tiles changed).
    pub fn forget_histories(&mut self) {
        self.histories.clear();
    }
}

/// What a tile's history holds.
#[derive(Debug, Clone, Default)]
struct History {
    numbers: Vec<f64>,
    tones: Vec<Tone>,
}

/// Draws presentation mode in the whole of `ui`.
pub fn presentation_ui(
    ui: &mut Ui,
    state: &mut PresentState,
    tab: Option<&mut ConnectionTab>,
    actions: &mut Vec<Action>,
) {
    scale_text(ui);
    let dark = ui.visuals().dark_mode;
    let background = if dark {
        egui::Color32::from_rgb(20, 22, 26)
    } else {
        egui::Color32::from_rgb(236, 238, 242)
    };
    ui.painter().rect_filled(ui.max_rect(), 0.0, background);
    // Ages and the clock move on even without traffic.
    ui.ctx().request_repaint_after(Duration::from_secs(1));
    let Some(tab) = tab else {
        header_ui(ui, state, None, actions);
        ui.add_space(80.0);
        ui.vertical_centered(|ui| {
            ui.label(RichText::new(tr!("present.no_connection")).heading());
            ui.label(tr!("present.connect_first"));
        });
        return;
    };
    let mut draft = tab.profile.presentation.clone();
    header_ui(ui, state, Some((tab, &mut draft)), actions);
    let frame = egui::Frame::new().inner_margin(egui::Margin::symmetric(20, 12));
    Panel::bottom("present-rate")
        .frame(frame.fill(background))
        .exact_size((ui.available_height() * 0.24).clamp(150.0, 260.0))
        .show(ui, |ui| rate::rate_ui(ui, tab));
    egui::CentralPanel::default()
        .frame(frame.fill(background))
        .show(ui, |ui| grid_ui(ui, state, tab, &mut draft));
    if draft != tab.profile.presentation {
        actions.push(Action::SetPresentation(Box::new(draft)));
    }
}

/// Larger type for the room (this `ui` and what it holds only: the rest of the window, and
/// the zoom the user chose, are left as they were).
fn scale_text(ui: &mut Ui) {
    for font in ui.style_mut().text_styles.values_mut() {
        font.size *= TEXT_SCALE;
    }
    ui.style_mut().spacing.interact_size.y *= TEXT_SCALE;
}

/// The bar on top: the connection, the clock, the redaction and tile menus, the way out.
fn header_ui(
    ui: &mut Ui,
    state: &mut PresentState,
    tab: Option<(&mut ConnectionTab, &mut Presentation)>,
    actions: &mut Vec<Action>,
) {
    Panel::top("present-bar")
        .frame(egui::Frame::new().inner_margin(egui::Margin::symmetric(20, 10)))
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label(RichText::new("🌳").size(26.0));
                match &tab {
                    Some((tab, _)) => {
                        let (state_text, color) = crate::ui::status_bar::describe(tab, ui);
                        ui.label(RichText::new(&tab.profile.name).size(24.0).strong());
                        crate::ui::status_bar::dot(ui, color);
                        // The room needs to know it is live, not the address and version.
                        let short = if tab.connected() {
                            tr!("present.live").into_owned()
                        } else {
                            state_text.clone()
                        };
                        ui.label(RichText::new(short).weak()).on_hover_text(state_text);
                    }
                    None => {
                        ui.label(RichText::new("Canopy").size(24.0).strong());
                    }
                }
                ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                    let exit = ui
                        .button(tr!("present.exit"))
                        .on_hover_text(tr!("present.exit_hover"));
                    if crate::ui::widgets::named(exit, &tr!("present.exit_name")).clicked() {
                        actions.push(Action::Present(false));
                    }
                    if let Some((tab, draft)) = tab {
                        menus::tiles_menu_ui(ui, draft);
                        menus::redaction_menu_ui(ui, state, draft, tab.profile.name.as_str());
                    }
                    ui.separator();
                    let now: chrono::DateTime<chrono::Local> = SystemTime::now().into();
                    ui.label(RichText::new(now.format("%H:%M").to_string()).size(24.0).strong());
                });
            });
        });
}

/// The tiles, as large as the screen allows, in a scroll area when they do not fit.
fn grid_ui(ui: &mut Ui, state: &mut PresentState, tab: &mut ConnectionTab, draft: &mut Presentation) {
    let tiles = tiles_of(tab, draft);
    if tiles.is_empty() {
        empty_ui(ui);
        return;
    }
    let views = views(state, tab, &tiles);
    let width = ui.available_width();
    let height = ui.available_height();
    let (columns, tile_size) = layout(tiles.len(), vec2(width, height));
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            let rows = tiles.len().div_ceil(columns);
            let total = vec2(width, rows as f32 * (tile_size.y + GAP) - GAP);
            let (area, _) = ui.allocate_exact_size(total, egui::Sense::hover());
            for (i, (tile, view)) in tiles.iter().zip(&views).enumerate() {
                let (row, column) = (i / columns, i % columns);
                let min = area.min
                    + vec2(
                        column as f32 * (tile_size.x + GAP),
                        row as f32 * (tile_size.y + GAP),
                    );
                let rect = Rect::from_min_size(min, tile_size);
                if !ui.is_rect_visible(rect) {
                    continue;
                }
                tile_ui(ui, rect, view, MENU_WIDTH);
                let corner = Rect::from_min_size(
                    rect.right_top() + vec2(-MENU_WIDTH - 10.0, 10.0),
                    vec2(MENU_WIDTH, MENU_WIDTH),
                );
                let mut menu_ui = ui.new_child(
                    UiBuilder::new()
                        .max_rect(corner)
                        .layout(Layout::top_down(Align::Center)),
                );
                menus::tile_menu_ui(&mut menu_ui, draft, tile, &view.shown_topic);
            }
        });
}

/// Columns and tile size for `n` tiles in `space`: tiles as large as possible across the
/// full width (never taller than 0.62 of their width) while they all fit; when they cannot,
/// as many columns as the minimum width allows, and the grid scrolls.
fn layout(n: usize, space: egui::Vec2) -> (usize, egui::Vec2) {
    let mut best: Option<(usize, egui::Vec2)> = None;
    let mut best_score = 0.0;
    let mut widest = (1, vec2(space.x, MIN_TILE_HEIGHT));
    for columns in 1..=n.max(1) {
        let rows = n.div_ceil(columns);
        let w = (space.x - GAP * (columns - 1) as f32) / columns as f32;
        if w < MIN_TILE_WIDTH && columns > 1 {
            break;
        }
        widest = (columns, vec2(w, MIN_TILE_HEIGHT.max(w * 0.5).min(w * 0.62)));
        let h_fit = (space.y - GAP * (rows - 1) as f32) / rows as f32;
        if h_fit < MIN_TILE_HEIGHT {
            continue;
        }
        let h = h_fit.min(w * 0.62);
        // A tile wider than 2.2 times its height gains nothing: its content does not grow.
        let score = w.min(h * 2.2) * h;
        if score > best_score {
            best_score = score;
            best = Some((columns, vec2(w, h)));
        }
    }
    best.unwrap_or((widest.0, vec2(widest.1.x, MIN_TILE_HEIGHT)))
}

/// What to show when nothing is pinned.
fn empty_ui(ui: &mut Ui) {
    ui.add_space(ui.available_height() * 0.25);
    ui.vertical_centered(|ui| {
        ui.label(RichText::new(tr!("present.nothing_pinned")).size(32.0).strong());
        ui.add_space(8.0);
        ui.label(RichText::new(tr!("present.nothing_pinned_help")).weak());
    });
}

/// The tiles shown: the pinned ones, then the topics of the subtree not pinned.
fn tiles_of(tab: &mut ConnectionTab, presentation: &Presentation) -> Vec<Tile> {
    let mut tiles = presentation.pinned.clone();
    if presentation.subtree.trim().is_empty() {
        return tiles;
    }
    let root = presentation
        .subtree
        .trim()
        .trim_end_matches(['/', '#'])
        .trim_end_matches('/');
    let start = if root.is_empty() {
        Some(ROOT)
    } else {
        tab.tree.find(root)
    };
    if let Some(start) = start {
        for id in topics_below(&mut tab.tree, start) {
            let topic = tab.tree.full_topic(id);
            if !presentation.is_pinned(&topic) {
                tiles.push(Tile::new(topic));
            }
        }
    }
    tiles
}

/// Topics at or below `start`, in tree order, at most [`MAX_SUBTREE_TILES`].
fn topics_below(tree: &mut TopicTree, start: NodeId) -> Vec<NodeId> {
    let mut found = Vec::new();
    let mut stack = vec![start];
    let mut visits = 0;
    while let Some(id) = stack.pop() {
        visits += 1;
        if found.len() >= MAX_SUBTREE_TILES || visits > MAX_SUBTREE_VISITS {
            break;
        }
        if id != ROOT && tree.node(id).is_topic() {
            found.push(id);
        }
        stack.extend(tree.sorted_children(id).iter().rev());
    }
    found
}

/// What each tile shows this frame, read through the connection's redaction.
fn views(state: &mut PresentState, tab: &ConnectionTab, tiles: &[Tile]) -> Vec<TileView> {
    let now = SystemTime::now();
    let mut kept = HashMap::new();
    let views = tiles
        .iter()
        .map(|tile| {
            let path = tile.path();
            let shown_topic = tab.redactor.topic(&tile.topic).into_owned();
            let Some(node) = tab.tree.find(&tile.topic).map(|id| tab.tree.node(id)) else {
                return TileView {
                    shown_topic,
                    reading: present::read(&tile.topic, b"", &path, &tile.unit),
                    age: None,
                    numbers: Vec::new(),
                    tones: Vec::new(),
                    range: None,
                };
            };
            let key = (tile.topic.clone(), tile.field.clone(), tile.unit.clone());
            let history = match state.histories.remove(&key) {
                Some((count, h)) if count == node.messages() => h,
                _ => read_history(tab, tile, node, &path),
            };
            let latest = node.latest();
            let payload = latest.map(|m| tab.redactor.payload(&tile.topic, &m.payload));
            let reading = present::read(&tile.topic, payload.as_deref().unwrap_or(b""), &path, &tile.unit);
            let unit = match &reading.value {
                Value::Number { unit, .. } => unit.as_str(),
                _ => "",
            };
            let range = present::gauge_range(tile, unit, &history.numbers);
            let view = TileView {
                shown_topic,
                reading,
                age: latest.map(|m| now.duration_since(m.received()).unwrap_or_default()),
                numbers: history.numbers.clone(),
                tones: history.tones.clone(),
                range,
            };
            kept.insert(key, (node.messages(), history));
            view
        })
        .collect();
    // Only the tiles still shown keep their history: memory follows the screen.
    state.histories = kept;
    views
}

/// Numbers and states of a topic's kept messages, oldest first (through the redaction: a
/// hidden field has no numbers to draw).
fn read_history(
    tab: &ConnectionTab,
    tile: &Tile,
    node: &crate::model::topic_tree::Node,
    path: &[String],
) -> History {
    let mut history = History::default();
    for i in (0..node.history_len()).rev() {
        let Some(m) = node.message(i) else { continue };
        let payload = tab.redactor.payload(&tile.topic, &m.payload);
        match present::read(&tile.topic, &payload, path, &tile.unit).value {
            Value::Number { value, .. } => history.numbers.push(value),
            Value::State { tone, .. } => history.tones.push(tone),
            _ => {}
        }
    }
    history
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_fills_the_screen_and_scrolls_past_the_minimum() {
        let screen = vec2(1600.0, 700.0);
        let (columns, size) = layout(1, screen);
        assert_eq!(columns, 1);
        assert!(size.y <= 700.0 && size.x <= 1600.0);
        let (columns, size) = layout(6, screen);
        assert_eq!(columns, 3, "{size:?}");
        assert!(2.0 * size.y + GAP <= 700.0 + 0.5);
        let (columns, size) = layout(9, vec2(1400.0, 560.0));
        assert_eq!(columns, 3, "{size:?}");
        let (columns, size) = layout(48, screen);
        assert_eq!(columns, 5, "{size:?}");
        assert!(size.y >= MIN_TILE_HEIGHT);
    }
}
