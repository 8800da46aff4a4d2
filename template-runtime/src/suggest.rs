//! "Did you mean": the one helper behind every suggestion for a misspelt word (DSL keywords,
//! options and build args; Dockerfile instructions).

/// The candidate closest to `word` by edit distance (Damerau–Levenshtein: a swap of two
/// neighbouring letters counts once), or `None` when nothing is close enough to be a likely typo.
///
/// Close enough: at most 2 edits, or a third of the candidate's length for long words, and fewer
/// edits than the candidate has letters (so `x` suggests nothing rather than any short word). On a
/// tie the earlier candidate wins, so list candidates in the order you would suggest them.
///
/// ```
/// use sandbox_template_runtime::__private::did_you_mean;
///
/// let keywords = ["run", "copy", "workdir", "from"];
/// assert_eq!(did_you_mean("rnu", keywords), Some("run"));
/// assert_eq!(did_you_mean("wokdir", keywords), Some("workdir"));
/// assert_eq!(did_you_mean("zzzzzzz", keywords), None);
/// ```
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3) && *d < c.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_words_only() {
        let kws = ["run", "copy", "workdir", "from"];
        assert_eq!(did_you_mean("rnu", kws), Some("run"));
        assert_eq!(did_you_mean("wokdir", kws), Some("workdir"));
        assert_eq!(did_you_mean("frm", kws), Some("from"));
        assert_eq!(did_you_mean("zzzzzzz", kws), None);
        assert_eq!(did_you_mean("x", ["ab"]), None);
    }

    #[test]
    fn ties_go_to_the_earlier_candidate() {
        assert_eq!(did_you_mean("cat", ["cut", "cot"]), Some("cut"));
    }
}
