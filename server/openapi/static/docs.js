// Starts Swagger UI on the API reference page (server/openapi): a file, not an inline script, so
// that the page's Content-Security-Policy can allow scripts from this server only.
"use strict";
window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: true,
    persistAuthorization: false,
    validatorUrl: null, // no call to an outside validator: the page works offline
    presets: [SwaggerUIBundle.presets.apis],
  });
});
