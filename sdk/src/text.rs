//! Texts as messaging providers take them.

/// Splits `text` into pieces of at most `max` characters, at a line break
/// or a space when there is one in the last quarter of a piece.
pub fn split(text: &str, max: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut pieces = Vec::new();
    let mut start = 0;
    while chars.len() - start > max {
        let window = &chars[start..start + max];
        let cut = window
            .iter()
            .rposition(|c| *c == '\n')
            .or_else(|| window.iter().rposition(|c| *c == ' '))
            .filter(|at| *at >= max * 3 / 4)
            .map_or(max, |at| at + 1);
        pieces.push(
            chars[start..start + cut]
                .iter()
                .collect::<String>()
                .trim_end()
                .to_string(),
        );
        start += cut;
    }
    pieces.push(chars[start..].iter().collect::<String>().trim_end().to_string());
    pieces.retain(|p| !p.is_empty());
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_split_at_a_line_or_a_space() {
        assert_eq!(split("short", 10), ["short"]);
        let text = format!("{}\n{}", "a".repeat(3500), "b".repeat(1000));
        let pieces = split(&text, 4096);
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0], "a".repeat(3500), "cut at the line break");
        let words = "word ".repeat(2000);
        let pieces = split(&words, 4096);
        assert!(pieces.iter().all(|p| p.chars().count() <= 4096 && p.ends_with("word")));
        assert_eq!(pieces.concat().replace(' ', ""), words.replace(' ', ""));
        let solid = "x".repeat(9000);
        assert_eq!(
            split(&solid, 4096).iter().map(|p| p.len()).collect::<Vec<_>>(),
            [4096, 4096, 808]
        );
        assert_eq!(
            split("é".repeat(5000).as_str(), 4096)[0].chars().count(),
            4096,
            "characters, not bytes"
        );
    }
}
