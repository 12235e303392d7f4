// Starts Swagger UI on the contract this service publishes. A file, not an inline script: the
// docs page's Content-Security-Policy admits scripts from this origin only.
const root = document.getElementById("swagger-ui");

window.ui = SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  domNode: root,
  deepLinking: true,
  // Operation ids are the names clients generate code from (appendEvents, getPosition, ...).
  displayOperationId: true,
  // Swagger UI would send the document to a public validator: the docs talk to this API alone.
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
