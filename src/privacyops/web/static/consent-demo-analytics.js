// A stand-in analytics tag for the consent banner demo (/consent/demo): it only says that it ran.
// The banner inserts it once the analytics class is allowed, after the page is parsed.
(function () {
  window.analyticsRan = (window.analyticsRan || 0) + 1;
  var status = document.getElementById("demo-analytics-status");
  if (status) status.textContent = "ran";
})();
