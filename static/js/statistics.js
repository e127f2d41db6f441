/* uprtrax statistics page: a bar chart (Chart.js, served by the app) beside each table that has one, drawn from the
   table's own rows (data-label, data-value, data-triggered, data-assessed), so that the figures live in one place.
   Without JavaScript the tables say everything; the charts only repeat them. One series per chart (triggered action,
   % of the assessed), each bar's figure written at its end: nothing is read from a colour or a length alone. */
(function () {
  "use strict";

  var Chart = window.Chart;
  var figures = document.querySelectorAll("[data-stats-chart]");
  if (!Chart || !figures.length) {
    return;
  }

  var root = window.getComputedStyle(document.documentElement);
  function cssColour(name, fallback) {
    return root.getPropertyValue(name).trim() || fallback;
  }
  var colours = {
    bar: cssColour("--bar-fill", "#2f6fb3"),
    text: cssColour("--color-text", "#1b1f24"),
    muted: cssColour("--color-muted", "#4f5965"),
    grid: cssColour("--color-border", "#cfd6de"),
    onBar: cssColour("--color-bg", "#ffffff"),
  };
  var fontFamily = window.getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.family = fontFamily;
  Chart.defaults.color = colours.text;

  var ROW = 28; // px per bar
  var AXES = 64; // px for the value axis and its title
  var NARROW = 480; // px: below it, short labels
  var count = new Intl.NumberFormat("en");

  function rowsOf(table, sorted) {
    var rows = Array.prototype.map.call(table.tBodies[0].querySelectorAll("tr[data-label]"), function (row) {
      var value = row.getAttribute("data-value");
      return {
        label: row.getAttribute("data-label"),
        value: value === "" ? null : parseFloat(value),
        triggered: parseInt(row.getAttribute("data-triggered"), 10),
        assessed: parseInt(row.getAttribute("data-assessed"), 10),
      };
    });
    if (sorted) {
      rows.sort(function (a, b) {
        return (b.value === null ? -1 : b.value) - (a.value === null ? -1 : a.value);
      });
    }
    return rows;
  }

  function short(text, max) {
    return text.length > max ? text.slice(0, max - 1) + "…" : text;
  }

  function valueText(row, narrow) {
    if (row.value === null) {
      return "not assessed";
    }
    var percent = row.value.toFixed(1) + "%";
    return narrow ? percent : percent + " (" + count.format(row.triggered) + " of " + count.format(row.assessed) + ")";
  }

  // Each bar's figure at its end, or inside the bar near its end when there is no room after it.
  var valueLabels = {
    id: "uprtraxValueLabels",
    afterDatasetsDraw: function (chart) {
      var rows = chart.options.plugins.uprtraxValueLabels.rows;
      var narrow = chart.width < NARROW;
      var area = chart.chartArea;
      var zero = chart.scales.x.getPixelForValue(0);
      var ctx = chart.ctx;
      ctx.save();
      ctx.font = "600 12px " + fontFamily;
      ctx.textBaseline = "middle";
      chart.getDatasetMeta(0).data.forEach(function (bar, index) {
        var row = rows[index];
        var text = valueText(row, narrow);
        var end = row.value === null ? zero : bar.x;
        var width = ctx.measureText(text).width;
        if (end + 6 + width <= area.right) {
          // After the bar, over the grid: a halo of the background keeps the grid lines off the figures.
          ctx.textAlign = "left";
          ctx.lineWidth = 4;
          ctx.lineJoin = "round";
          ctx.strokeStyle = colours.onBar;
          ctx.strokeText(text, end + 6, bar.y);
          ctx.fillStyle = row.value === null ? colours.muted : colours.text;
          ctx.fillText(text, end + 6, bar.y);
        } else {
          ctx.fillStyle = colours.onBar;
          ctx.textAlign = "right";
          ctx.fillText(text, end - 6, bar.y);
        }
      });
      ctx.restore();
    },
  };

  function draw(figure) {
    var table = document.getElementById(figure.getAttribute("data-stats-chart"));
    var canvas = figure.querySelector("canvas");
    if (!table || !canvas) {
      return;
    }
    var rows = rowsOf(table, figure.getAttribute("data-sort") === "value");
    if (!rows.length) {
      return;
    }
    figure.classList.add("is-drawn"); // shown (and so sized) before Chart.js measures it
    figure.style.height = rows.length * ROW + AXES + "px";
    try {
      new Chart(canvas, {
        type: "bar",
        data: {
          labels: rows.map(function (row) {
            return row.label;
          }),
          datasets: [
            {
              label: "Triggered action, % of the assessed recommendations",
              data: rows.map(function (row) {
                return row.value;
              }),
              backgroundColor: colours.bar,
              borderColor: colours.text,
              borderWidth: 1,
              maxBarThickness: 20,
            },
          ],
        },
        options: {
          indexAxis: "y",
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          layout: { padding: { right: 8 } },
          scales: {
            x: {
              min: 0,
              max: 100,
              grid: { color: colours.grid },
              ticks: {
                callback: function (value) {
                  return value + "%";
                },
              },
              title: { display: true, text: "Triggered action, % of the assessed recommendations" },
            },
            y: {
              grid: { display: false },
              ticks: {
                autoSkip: false,
                callback: function (value) {
                  var label = this.getLabelForValue(value);
                  return short(label, this.chart.width < NARROW ? 16 : 38);
                },
              },
            },
          },
          plugins: {
            legend: { display: false }, // one series, named by the axis title
            tooltip: {
              callbacks: {
                label: function (item) {
                  var row = rows[item.dataIndex];
                  return row.value === null
                    ? "Not assessed"
                    : "Triggered action: " + valueText(row, false).replace(")", " assessed)");
                },
              },
            },
            uprtraxValueLabels: { rows: rows },
          },
        },
        plugins: [valueLabels],
      });
    } catch (error) {
      figure.classList.remove("is-drawn"); // the table still says it all
      throw error;
    }
  }

  Array.prototype.forEach.call(figures, draw);
})();
