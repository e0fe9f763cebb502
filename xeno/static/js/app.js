// Small page helpers shared by every page (CSP allows only same-origin scripts, no inline code).
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // fetch() for the JSON API with the session: sends the CSRF header on state changes and
  // resolves to the parsed body; a non-2xx answer rejects with the SPEC error body attached.
  function api(path, options) {
    options = options || {};
    var method = (options.method || "GET").toUpperCase();
    var headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    var init = { method: method, headers: headers, credentials: "same-origin" };
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    }
    if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = csrfToken();
    var url = path.indexOf("/") === 0 ? path : "/api/v1/" + path;
    return fetch(url, init).then(function (response) {
      return response.text().then(function (text) {
        var body = text ? JSON.parse(text) : null;
        if (!response.ok) {
          var error = new Error((body && body.message) || response.statusText);
          error.status = response.status;
          error.body = body;
          throw error;
        }
        return body;
      });
    });
  }

  window.xeno = Object.assign(window.xeno || {}, { api: api, csrfToken: csrfToken });

  document.addEventListener("DOMContentLoaded", function () {
    // <select data-autosubmit> submits its form as soon as it changes.
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () {
        if (select.form) select.form.submit();
      });
    });
  });
})();
