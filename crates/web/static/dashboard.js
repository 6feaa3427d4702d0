// 监管看板 charts (Apache ECharts, vendored): the daily and weekly trends of money collected, released and refunded, and
// the sub-regions' escrow. The figures come from the page's JSON island; without JavaScript the tables show them.
(function () {
  var island = document.getElementById('dashboard-data');
  if (!island || !window.echarts) return;
  var d = JSON.parse(island.textContent);
  var yuan = function (fen) { return Math.round(fen) / 100; };
  var trend = document.getElementById('trend-chart');
  if (trend) {
    var chart = echarts.init(trend);
    chart.setOption({
      tooltip: { trigger: 'axis' },
      legend: { data: ['收费', '划转', '退费'] },
      grid: { left: 60, right: 20, top: 40, bottom: 30 },
      xAxis: { type: 'category', data: d.trend.map(function (t) { return t.day.slice(5); }) },
      yAxis: { type: 'value', name: '元' },
      series: [
        { name: '收费', type: 'line', data: d.trend.map(function (t) { return yuan(t.collected_fen); }) },
        { name: '划转', type: 'line', data: d.trend.map(function (t) { return yuan(t.released_fen); }) },
        { name: '退费', type: 'line', data: d.trend.map(function (t) { return yuan(t.refunded_fen); }) },
      ],
    });
    trend.setAttribute('data-rendered', 'true');
  }
  var weekly = document.getElementById('weekly-chart');
  if (weekly) {
    echarts.init(weekly).setOption({
      tooltip: { trigger: 'axis' },
      legend: { data: ['收费', '划转', '退费'] },
      grid: { left: 60, right: 20, top: 40, bottom: 30 },
      xAxis: { type: 'category', data: d.weekly.map(function (t) { return t.day.slice(5) + '周'; }) },
      yAxis: { type: 'value', name: '元' },
      series: [
        { name: '收费', type: 'bar', data: d.weekly.map(function (t) { return yuan(t.collected_fen); }) },
        { name: '划转', type: 'bar', data: d.weekly.map(function (t) { return yuan(t.released_fen); }) },
        { name: '退费', type: 'bar', data: d.weekly.map(function (t) { return yuan(t.refunded_fen); }) },
      ],
    });
  }
  var children = document.getElementById('children-chart');
  if (children && d.children.length) {
    var bars = echarts.init(children);
    bars.setOption({
      tooltip: { trigger: 'axis' },
      grid: { left: 60, right: 20, top: 20, bottom: 60 },
      xAxis: { type: 'category', data: d.children.map(function (c) { return c.region.display_name; }), axisLabel: { rotate: 40 } },
      yAxis: { type: 'value', name: '在监管（元）' },
      series: [{ type: 'bar', data: d.children.map(function (c) { return yuan(c.money.escrow_fen); }) }],
    });
    bars.on('click', function (p) {
      var c = d.children[p.dataIndex];
      if (c) window.location.href = '/regulator/dashboard?region=' + encodeURIComponent(c.region.code);
    });
  }
})();
