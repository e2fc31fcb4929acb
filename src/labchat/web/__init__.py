"""The web chat, in the order a page is served: `app` (the page, the chat and the `ask` endpoint),
`documents` (the Documents and Source tabs), `docview` (the HTML they show), `library` (uploads and
removals in the corpus folder) and `live` (the corpus followed while the server runs)."""
