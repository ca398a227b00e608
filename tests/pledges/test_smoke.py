from tests.conftest import World
from tests.factories import make_pledge


def test_pledge_created_through_services_is_seen_by_analyst(world: World) -> None:
    from pledges.selectors import pledge_list

    make_pledge(country=world.pl, coalition=world.coalition, status="confirmed")
    assert pledge_list(user=world.analyst).count() == 1
