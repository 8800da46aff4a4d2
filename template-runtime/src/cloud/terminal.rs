//! Making text a server sent safe to print on a terminal.
//!
//! Written by hand, not with `strip-ansi-escapes`/`vte`: those parse bytes as a terminal does
//! and hand every decoded character to `print`, so a C1 control that arrives UTF-8 encoded
//! (U+009B, the 8-bit CSI, which xterm and others obey) and the parameters after it pass through
//! as text, while `strip-ansi-escapes` also drops tabs. What is needed here is a filter over
//! `char`s with a short, fixed list of what to keep; it is this one function.

use std::borrow::Cow;

const ESC: char = '\u{1b}';
const BEL: char = '\u{07}';
/// 8-bit String Terminator.
const ST: char = '\u{9c}';

/// `text` with everything a terminal would act on removed, so server-provided text (build log
/// lines, error messages, failure reasons, names) cannot set the window title, clear the
/// screen, move the cursor, ring the bell or overwrite earlier output when printed.
///
/// Removed: C0 controls except `\n` and `\t` (so BEL and CR too), DEL, the C1 controls
/// U+0080–U+009F, and whole escape sequences: CSI (`ESC [`, or the 8-bit U+009B) up to its final
/// byte, OSC/DCS/SOS/PM/APC strings (`ESC ]`, `ESC P`, `ESC X`, `ESC ^`, `ESC _`, or their 8-bit
/// forms) up to BEL or ST (`ESC \` or U+009C), and two- or three-character escapes such as
/// `ESC c` (reset) or `ESC ( B`. Everything else, including all other Unicode, is kept. Text
/// with nothing to remove is returned without copying.
///
/// The client applies it to what it reports as text: the log lines of a build it follows
/// ([`BuildEvent::Log`](super::BuildEvent::Log)), failure reasons and error messages. Answers it
/// returns as data ([`Client::build_status`](super::Client::build_status), the template list,
/// tags) hold what the service sent: apply it to their text before printing it.
///
/// ```
/// use sandbox_template_runtime::cloud::terminal_safe;
///
/// assert_eq!(terminal_safe("\u{1b}[32mok\u{1b}[0m\tdone\n"), "ok\tdone\n");
/// // An OSC that would set the window title, a clear screen, a bell and a carriage return:
/// assert_eq!(terminal_safe("\u{1b}]0;pwned\u{7}a\u{1b}[2Jb\u{7}\rc"), "abc");
/// assert_eq!(terminal_safe("\u{9b}31mred ü"), "red ü");
/// ```
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_removed) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ESC => match chars.peek().copied() {
                Some('[') => {
                    chars.next();
                    skip_csi(&mut chars);
                }
                Some(']' | 'P' | 'X' | '^' | '_') => {
                    chars.next();
                    skip_string(&mut chars);
                }
                // nF: intermediates, then one final character (`ESC ( B`, `ESC # 8`).
                Some(' '..='/') => {
                    while chars.next_if(|c| (' '..='/').contains(c)).is_some() {}
                    chars.next_if(|c| ('0'..='~').contains(c));
                }
                // Fp/Fe/Fs: one character (`ESC 7`, `ESC c`, `ESC M`).
                Some('0'..='~') => {
                    chars.next();
                }
                // A lone ESC (or one before a control or non-ASCII text): only it goes.
                _ => {}
            },
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            c if is_removed(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Whether `c` is never printed: C0 but `\n`/`\t`, DEL, C1 (ESC is C0).
fn is_removed(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || ('\u{80}'..='\u{9f}').contains(&c)
}

/// The rest of a CSI: parameter and intermediate bytes (0x20–0x3F), then one final byte
/// (0x40–0x7E). Anything else ends the sequence early and is then treated as text (removed if it
/// is a control), as a terminal would abort the sequence.
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while chars.next_if(|c| (' '..='?').contains(c)).is_some() {}
    chars.next_if(|c| ('@'..='~').contains(c));
}

/// The rest of an OSC/DCS/SOS/PM/APC string, up to and including its terminator: BEL, ST, or
/// `ESC \`. An unterminated string runs to the end of the text, as it would on a terminal.
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            BEL | ST => return,
            ESC if chars.peek() == Some(&'\\') => {
                chars.next();
                return;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(terminal_safe("plain ü\ttab\nline"), Cow::Borrowed(_)));
    }

    #[test]
    fn colour_codes_go() {
        assert_eq!(terminal_safe("\u{1b}[32mpulling\u{1b}[0m base image"), "pulling base image");
        assert_eq!(terminal_safe("\u{1b}[1;38;5;196mX"), "X");
    }

    #[test]
    fn c0_controls_but_newline_and_tab_go() {
        assert_eq!(terminal_safe("a\u{7}b\rc\u{8}d\u{0}e\u{7f}f\tg\nh"), "abcdef\tg\nh");
    }

    #[test]
    fn osc_ends_at_bel_or_st() {
        assert_eq!(terminal_safe("\u{1b}]0;title\u{7}after"), "after");
        assert_eq!(terminal_safe("\u{1b}]0;title\u{1b}\\after"), "after");
        assert_eq!(terminal_safe("\u{9d}8;;http://x\u{9c}link"), "link");
        assert_eq!(terminal_safe("\u{1b}]0;never ends"), "");
    }

    #[test]
    fn c1_forms_go() {
        assert_eq!(terminal_safe("\u{9b}2Jscreen"), "screen");
        assert_eq!(terminal_safe("a\u{85}b\u{8d}c"), "abc");
        assert_eq!(terminal_safe("\u{90}qdata\u{1b}\\x"), "x");
    }

    #[test]
    fn short_escapes_go() {
        assert_eq!(terminal_safe("\u{1b}cX\u{1b}(BY\u{1b}7Z"), "XYZ");
        assert_eq!(terminal_safe("end\u{1b}"), "end");
        assert_eq!(terminal_safe("\u{1b}\u{1b}[0mok"), "ok");
    }
}
