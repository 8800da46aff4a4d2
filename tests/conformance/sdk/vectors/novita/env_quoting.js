const { emit, CTX, Template } = require('./_emit')
const novita = require('novita-sandbox')
// Every character the env script quotes: `"`, `'`, `\`, backticks, `$(`, a newline, a lone `$`.
emit(Template().fromTemplate('t').setEnvs({
  DQ: 'say "hi"',
  SQ: "it's",
  BS: 'C:\\tmp\\$HOME',
  BT: 'run `date` and $(date) and $((1+2))',
  NL: 'line one\nline two',
  MIXED: '${HOME}/"x" \'y\' \\z `w` 5$ $',
}))
