// Values a secret may hold and every layer must carry exactly (quotes, backslashes, $, %, #, ;, white
// space at the ends, non-ASCII, shell and INI syntax): shared by the per-layer tests.
export const hostile: readonly string[] = [
  `it's "quoted"`, 'back\\slash', 'trailing\\', '$HOME ${PATH} $$ $', '$(id) `id`', '100% %s %(x)s %25', '#not-a-comment', 'a;b; c',
  '  leading and trailing spaces  ', 'tab\tinside', "'single quoted'", '"double quoted"', '"', "'", 'café über straße ÿ', '[section]', 'key = value',
  '-leading-dash', '~root', '*?[ab]', '!!', '\u00a0nbsp at the start', 'a\\nb (backslash n, not a newline)',
];
