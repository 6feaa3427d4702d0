-- A mix of what visitors of the public site ask: Chinese keywords, region drill-downs, categories, paging.
local paths = {
  "/api/v1/public/institutions?q=%E6%95%B0%E5%AD%A6",                                  -- 数学
  "/api/v1/public/institutions?q=%E9%92%A2%E7%90%B4",                                  -- 钢琴
  "/api/v1/public/institutions?q=%E8%8B%B1%E8%AF%AD&region=440000",                    -- 英语, 广东
  "/api/v1/public/institutions?region=330106",                                         -- 西湖区
  "/api/v1/public/institutions?category=arts&region=310000",                           -- 艺术, 上海
  "/api/v1/public/institutions?q=%E7%AF%AE%E7%90%83&mode=offline",                     -- 篮球, 线下
  "/api/v1/public/institutions?list=white&page=3",
  "/api/v1/public/institutions?q=%E7%BC%96%E7%A8%8B",                                  -- 编程
  "/api/v1/public/institutions?q=%E8%88%9E%E8%B9%88&region=510100",                    -- 舞蹈, 成都
  "/api/v1/public/institutions?q=%E6%B8%B8%E6%B3%B3",                                  -- 游泳
  "/api/v1/public/institutions?q=%E7%BE%8E%E6%9C%AF%E5%9F%B9%E8%AE%AD",                -- 美术培训
  "/api/v1/public/institutions?region=110108&category=sports",                         -- 海淀, 体育
  "/api/v1/public/institutions?q=%E4%BD%9C%E6%96%87&list=white",                       -- 作文 (few or no hits)
  "/api/v1/public/institutions?q=%E5%90%AF%E8%88%AA%E6%95%B0%E5%AD%A6&region=320000",  -- 启航数学, 江苏
  "/api/v1/public/institutions?list=black",
  "/api/v1/public/institutions?q=%E6%9C%BA%E5%99%A8%E4%BA%BA&page=2",                  -- 机器人, page 2
}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
