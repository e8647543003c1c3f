// A stand-in advertising tag for the consent banner demo (/consent/demo): it only says that it ran.
// The banner inserts it once the advertising class is allowed, after the page is parsed.
(function () {
  window.advertisingRan = (window.advertisingRan || 0) + 1;
  var status = document.getElementById("demo-advertising-status");
  if (status) status.textContent = "ran";
})();
