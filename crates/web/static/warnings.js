// 风险预警 console: new warnings arrive over server-sent events and are put at the top of the list, so a red
// warning reaches the regulator within a second of the event that caused it. Text only (no HTML from data).
(function () {
  var list = document.getElementById('warnings');
  if (!list || !window.EventSource) return;
  var since = list.getAttribute('data-since') || '0';
  var source = new EventSource('/regulator/warnings/stream?since=' + encodeURIComponent(since));
  source.addEventListener('warning', function (e) {
    var w = JSON.parse(e.data);
    if (document.getElementById('w-' + w.id)) return;
    var empty = list.querySelector('.empty');
    if (empty) empty.remove();
    var li = document.createElement('li');
    li.className = 'result warning level-' + w.level;
    li.id = 'w-' + w.id;
    li.setAttribute('data-level', w.level);
    var a = document.createElement('a');
    a.className = 'name';
    a.href = '/regulator/institutions/' + encodeURIComponent(w.institution_id) + '/money';
    a.textContent = w.level_label + '预警 · ' + w.institution_name;
    var meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent = w.indicator_label + ' · ' + w.raised_at_display + ' · 模型第' + w.model_version +
      '版 · 整改期限 ' + w.rectify_by_display + ' · ' + w.status_label;
    li.appendChild(a);
    li.appendChild(meta);
    list.insertBefore(li, list.firstChild);
    var count = document.getElementById('live-count');
    if (count) count.textContent = String(Number(count.textContent || '0') + 1);
  });
})();
