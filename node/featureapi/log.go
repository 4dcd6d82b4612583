package featureapi

import "lifeline/node/internal/loglimit"

// untokenedLines is how many lines the server logs in a second of the
// requests it answers before it knows their token: those refused for it,
// or when the tokens cannot be read. Anyone who reaches the port may send
// them, and over HTTP/2 hundreds on one connection: the rest of the
// second's are counted, and logged as one line, with count, when the
// second ends, as the port does with its refusals.
const untokenedLines = 10

// msgUntokened is the line that counts a second's lines past
// untokenedLines.
const msgUntokened = "feature API: more requests without a good token, not logged one by one"

// untokened is what logs the lines of requests without a good token,
// untokenedLines a second.
type untokened = loglimit.Limiter
