// The application form tells the candidate, as they type, whether the work start date meets the work-years rule
// of the session for the qualification chosen (the same count as applications/eligibility.py: whole months to
// 31 December of the exam year). Everything it needs is in the form's data attributes: it calls nothing.
(function () {
  var form = document.querySelector("form[data-eligibility]");
  if (!form) return;
  var data = form.dataset;
  var required = JSON.parse(data.requiredYears);
  var examYear = parseInt(data.examYear, 10);
  var output = document.getElementById("eligibility-live");
  var start = form.querySelector("[name=work_start_date]");
  var qualification = form.querySelector("[name=qualification]");

  function monthsWorked(day) {
    var endYear = examYear + 1; // counted to 31 December: the day after is 1 January
    if (day.getFullYear() >= endYear) return 0;
    var months = (endYear - day.getFullYear()) * 12 + (0 - day.getMonth());
    return day.getDate() > 1 ? months - 1 : months;
  }

  function fill(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (match, name) {
      return name in values ? values[name] : match;
    });
  }

  function update() {
    var chosen = qualification.value;
    var parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(start.value || "");
    if (!chosen || !(chosen in required)) {
      output.hidden = true;
      return;
    }
    if (chosen === data.certificateQualification) {
      output.textContent = data.msgCertificate;
      output.className = "eligibility eligibility-check";
      output.hidden = false;
      return;
    }
    if (!parts) {
      output.hidden = true;
      return;
    }
    var months = monthsWorked(new Date(+parts[1], +parts[2] - 1, +parts[3]));
    var values = {
      counted: fill(data.msgDuration, { years: Math.floor(months / 12), months: months % 12 }),
      required: required[chosen],
      end: examYear + "-12-31",
    };
    var ok = months >= required[chosen] * 12;
    output.textContent = fill(ok ? data.msgOk : data.msgShort, values);
    output.className = "eligibility " + (ok ? "eligibility-ok" : "eligibility-short");
    output.hidden = false;
  }

  start.addEventListener("input", update);
  start.addEventListener("change", update);
  qualification.addEventListener("change", update);
  update();
})();
