from tests.conftest import sign_in


async def test_home_page_lists_public_communities(client, community):
    response = await client.get("/")
    assert response.status_code == 200
    assert "Celiac disease" in response.text


async def test_signed_in_member_reads_a_thread(client, member, community, thread_factory):
    thread = await thread_factory(community=community, author=member)
    await sign_in(client, member)
    response = await client.get(f"/t/{thread['id']}")
    assert response.status_code == 200
    assert "<strong>gluten free</strong>" in response.text
