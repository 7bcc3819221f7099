//! Paging as a type: a `PagePlan` says which pages to ask for; `fetch_all` asks for page 1,
//! learns the total, then fetches every remaining page concurrently (each through the
//! tracker's limiter) and assembles them in order.

use crate::error::RallyError;
use crate::wsapi::QueryResult;
use futures_util::future::try_join_all;
use std::future::Future;

/// Rally's largest page.
pub const MAX_PAGE_SIZE: usize = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PagePlan {
    /// How many items are wanted at most (the caller's limit or the safety cap).
    pub limit: usize,
    pub page_size: usize,
}

impl PagePlan {
    pub fn new(limit: usize) -> Self {
        let limit = limit.max(1);
        PagePlan { limit, page_size: limit.min(MAX_PAGE_SIZE) }
    }

    /// 1-based `start` of every page after the first, given the total page 1 reported.
    pub fn rest(&self, total: usize) -> Vec<usize> {
        let wanted = total.min(self.limit);
        (1..).map(|i| 1 + i * self.page_size).take_while(|start| *start <= wanted).collect()
    }
}

pub struct Fetched<T> {
    pub items: Vec<T>,
    /// What Rally reported as TotalResultCount (may exceed `items.len()` when capped).
    pub total: usize,
}

/// `fetch(start, pagesize)` fetches one page.
pub async fn fetch_all<T, F, Fut>(plan: PagePlan, fetch: F) -> Result<Fetched<T>, RallyError>
where
    F: Fn(usize, usize) -> Fut,
    Fut: Future<Output = Result<QueryResult<T>, RallyError>>,
{
    let first = fetch(1, plan.page_size).await?;
    let total = first.total();
    let mut items = first.results;
    let rest = plan.rest(total);
    if !rest.is_empty() {
        let pages = try_join_all(rest.into_iter().map(|start| fetch(start, plan.page_size))).await?;
        items.reserve(pages.iter().map(|p| p.results.len()).sum());
        for p in pages {
            items.extend(p.results);
        }
    }
    items.truncate(plan.limit);
    Ok(Fetched { items, total })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        let p = PagePlan::new(10_000);
        assert_eq!(p.page_size, 2000);
        assert_eq!(p.rest(4523), vec![2001, 4001]);
        assert_eq!(p.rest(4000), vec![2001]);
        assert_eq!(p.rest(2000), Vec::<usize>::new());
        assert_eq!(p.rest(0), Vec::<usize>::new());
        let p = PagePlan::new(100);
        assert_eq!((p.page_size, p.rest(5000)), (100, vec![]));
        assert_eq!(PagePlan::new(0).page_size, 1);
    }

    proptest! {
        /// The pages tile 1..=min(total, limit) exactly: no overlap, no gap, nothing past it.
        #[test]
        fn pages_tile_the_range(total in 0usize..50_000, limit in 1usize..30_000) {
            let p = PagePlan::new(limit);
            prop_assert!(p.page_size >= 1 && p.page_size <= MAX_PAGE_SIZE);
            let wanted = total.min(limit);
            let mut covered = 0usize; // items 1..=covered fetched so far
            let mut starts = vec![1];
            starts.extend(p.rest(total));
            for s in &starts {
                prop_assert_eq!(*s, covered + 1, "gap or overlap at {}", s);
                covered += p.page_size;
            }
            prop_assert!(covered >= wanted);
            prop_assert!(covered - p.page_size < wanted.max(1));
        }
    }

    #[tokio::test]
    async fn assembles_pages_in_order_and_truncates() {
        let data: Vec<usize> = (1..=4321).collect();
        let fetch = |start: usize, size: usize| {
            let slice: Vec<usize> = data.iter().copied().skip(start - 1).take(size).collect();
            async move {
                Ok::<_, RallyError>(QueryResult {
                    errors: vec![],
                    warnings: vec![],
                    total_result_count: Some(4321.0),
                    start_index: Some(start as f64),
                    page_size: Some(size as f64),
                    results: slice,
                })
            }
        };
        let all = fetch_all(PagePlan::new(10_000), fetch).await.unwrap();
        assert_eq!(all.items, data);
        let some = fetch_all(PagePlan::new(2500), fetch).await.unwrap();
        assert_eq!(some.items, data[..2500].to_vec());
        assert_eq!(some.total, 4321);
    }
}
