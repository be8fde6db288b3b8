// The print button of the in-person request form. A file rather than an inline handler, so that the site's
// Content-Security-Policy can forbid inline scripts. Without JavaScript the button stays hidden and the page
// tells the candidate to use the browser's print command.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () {
    window.print();
  });
});
