"""Test doubles that speak real protocols (Web Push, Mozilla's autopush) and drive real browsers.

- pushservice: a push service on 127.0.0.1 (RFC 8030 + RFC 8291 aes128gcm + RFC 8292 VAPID) that
  decrypts and records what arrives, and can be scripted to answer 404/410/429/… or to hang.
- autopush: Mozilla's autopush server (the WebSocket protocol of Firefox's push client, plus the
  HTTP push endpoints), so that stock firefox-esr subscribes and receives pushes for real.
- firefox: launches headless firefox-esr with a profile that points its push client at autopush.
- site: a static folder on 127.0.0.1 whose pages POST reports back to the test.
"""
