"""Walking cursor-paginated task lists over HTTP, as a client does."""


def page_ids(response) -> list[int]:
    return [task["id"] for task in response.json()["results"]]


def walk_pages(api, url: str, link: str = "next") -> list[list[int]]:
    """The ids of every page, following `link` until it runs out."""
    pages: list[list[int]] = []
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.json()
        pages.append(page_ids(response))
        url = response.json()[link]
        assert len(pages) <= 50, "pagination does not end"
    return pages
