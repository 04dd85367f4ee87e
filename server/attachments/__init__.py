"""Photos and other attachments: taken on the phone (offline too), uploaded by content hash when the
signal allows, checked and thumbnailed on the server, served only through the record's scope."""
